// SPDX-License-Identifier: MPL-2.0
// The merge on a fake clock: each packet leaves at its playout time (source time + one
// offset), in order, once; a late packet is dropped and never holds up the ones behind.
#include "playout/merge.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <set>

#include "tests/playout/playout_test_support.h"

namespace bondcast::playout {
namespace {

using namespace std::chrono_literals;
using testing::Arrival;
using testing::drive;
using testing::Output;
using Verdict = Merger::Verdict;

constexpr std::int64_t kLatencyUs = 200'000;
constexpr std::int64_t kHoldUs = 100'000;

Merger::Options options() {
  return sessionOptions(Micros(kLatencyUs));
}

// Packets every `gap_us` from source time 0, each arriving `delay_us` later on link 0.
std::vector<Arrival> steady(std::uint64_t n, std::int64_t delay_us, std::int64_t gap_us = 1000) {
  std::vector<Arrival> out;
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto src = static_cast<std::int64_t>(i) * gap_us;
    out.push_back({src + delay_us, i, static_cast<std::uint64_t>(src), 0});
  }
  return out;
}

std::vector<std::uint64_t> seqs(const std::vector<Output>& out) {
  std::vector<std::uint64_t> s;
  for (const auto& o : out) {
    s.push_back(o.seq);
  }
  return s;
}

TEST(Merger, PlaysEveryPacketOutAtItsSourceTimePlusOneOffset) {
  // Link delay 30 ms with jitter 0-10 ms: the floor is 30 ms, so the offset (sender and
  // receiver clocks agree here) is 30 ms + the latency.
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> jitter(0, 10'000);
  std::vector<Arrival> arrivals = steady(3000, 30'000);
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    arrivals[i].at_us += jitter(rng);
  }
  const auto r = drive(arrivals, options());
  ASSERT_EQ(r.out.size(), 3000u);
  EXPECT_TRUE(r.lost.empty());
  for (const Output& o : r.out) {
    const std::int64_t due = static_cast<std::int64_t>(o.source_us) + 30'000 + kLatencyUs;
    ASSERT_EQ(o.playout_us, due) << "seq " << o.seq;
    ASSERT_GE(o.out_us, due) << "seq " << o.seq << " left before its playout time";
    ASSERT_LE(o.out_us - due, 1000) << "seq " << o.seq << " left more than 1 ms late";
  }
}

TEST(Merger, OutputSpacingFollowsSourceSpacingWhateverTheArrivals) {
  // Packets 5 ms apart at the source arrive in bursts of ten: they leave 5 ms apart.
  std::vector<Arrival> arrivals = steady(400, 20'000, 5000);
  for (auto& a : arrivals) {
    a.at_us = (a.at_us / 50'000 + 1) * 50'000;  // held and released every 50 ms
  }
  const auto r = drive(arrivals, options());
  ASSERT_EQ(r.out.size(), 400u);
  for (std::size_t i = 1; i < r.out.size(); ++i) {
    EXPECT_EQ(r.out[i].out_us - r.out[i - 1].out_us, 5000) << "seq " << r.out[i].seq;
  }
}

TEST(Merger, ALatePacketIsDroppedAndNeverDelaysALaterOne) {
  std::vector<Arrival> arrivals = steady(1000, 30'000);
  // Packet 500 comes 300 ms late (after its playout time); 501 on time behind it.
  arrivals[500].at_us += 300'000;
  const auto r = drive(arrivals, options());
  EXPECT_EQ(r.first_verdict.at(500), Verdict::kLate);
  EXPECT_EQ(r.stats.late, 1u);
  EXPECT_EQ(r.stats.lost, 1u);
  ASSERT_EQ(r.lost, (std::vector<std::pair<std::uint64_t, std::uint64_t>>{{500, 1}}));
  ASSERT_EQ(r.out.size(), 999u);
  for (const Output& o : r.out) {
    EXPECT_NE(o.seq, 500u);
    EXPECT_LE(o.out_us - o.playout_us, 1000) << "seq " << o.seq << " was held up";
  }
}

TEST(Merger, AMissingPacketIsGivenUpWhenTheNextOneLeaves) {
  std::vector<Arrival> arrivals = steady(300, 30'000);
  arrivals.erase(arrivals.begin() + 200);  // seq 200 never comes
  const auto r = drive(arrivals, options(), false);
  ASSERT_EQ(r.lost, (std::vector<std::pair<std::uint64_t, std::uint64_t>>{{200, 1}}));
  const auto next =
      std::find_if(r.out.begin(), r.out.end(), [](const Output& o) { return o.seq == 201; });
  ASSERT_NE(next, r.out.end());
  EXPECT_EQ(next->out_us, next->playout_us) << "201 left on time, not a window later";
}

TEST(Merger, APacketArrivingBeforeItsPlayoutTimeAfterOthersIsPutBackInOrder) {
  std::vector<Arrival> arrivals = steady(300, 30'000);
  arrivals[150].at_us += 150'000;  // still 50 ms before its playout time
  const auto r = drive(arrivals, options());
  EXPECT_EQ(r.first_verdict.at(150), Verdict::kAccepted);
  ASSERT_EQ(r.out.size(), 300u);
  for (std::size_t i = 0; i < r.out.size(); ++i) {
    EXPECT_EQ(r.out[i].seq, i);
  }
}

TEST(Merger, DropsAndCountsDuplicatesWhetherWaitingOrDelivered) {
  std::vector<Arrival> arrivals = steady(100, 30'000);
  arrivals.push_back({30'500, 0, 0, 1});         // copy of 0 while it waits (start-up hold)
  arrivals.push_back({400'000, 10, 10'000, 1});  // copy of 10 after it left
  arrivals.push_back({95'000, 60, 60'000, 2});   // copy of 60 while it waits
  const auto r = drive(arrivals, options());
  EXPECT_EQ(r.stats.duplicates, 3u);
  EXPECT_EQ(r.stats.accepted, 100u);
  const auto out = seqs(r.out);
  EXPECT_EQ(out.size(), 100u);
  const std::set<std::uint64_t> unique(out.begin(), out.end());
  EXPECT_EQ(unique.size(), 100u) << "a packet came out twice";
}

TEST(Merger, HoldsTheStartThenStartsAtTheLowestSequenceSeen) {
  Merger m(options());
  const TimePoint t0{std::chrono::seconds(50)};
  std::vector<std::uint8_t> payload(4, 1);
  m.push(5, 5000, 0, payload, t0);
  m.push(3, 3000, 1, payload, t0 + 10ms);
  m.push(4, 4000, 0, payload, t0 + 20ms);
  std::vector<std::uint64_t> out;
  auto deliver = [&](const Merger::Packet& p) { out.push_back(p.seq); };
  m.release(t0 + Micros(kHoldUs) - 1us, deliver, nullptr);
  EXPECT_FALSE(m.clock().started());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(m.nextDeadline(), t0 + Micros(kHoldUs));
  m.release(t0 + Micros(kHoldUs), deliver, nullptr);
  ASSERT_TRUE(m.clock().started());
  // The floor is the smallest arrival - source time seen: packet 5's, t0 - 5 ms.
  const TimePoint due3 = m.clock().playoutTime(3000);
  EXPECT_EQ(due3, t0 - 5ms + 3ms + Micros(kLatencyUs));
  m.release(due3 + 2ms, deliver, nullptr);
  EXPECT_EQ(out, (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(m.push(2, 2000, 0, payload, due3 + 2ms), Verdict::kLate) << "before the start";
}

// What a receipt to the sender says: nothing before the start; then every sequence number
// below the next to leave is settled (delivered or given up), and those waiting are listed.
TEST(Merger, SaysWhatItHoldsForAReceipt) {
  Merger m(options());
  const TimePoint t0{std::chrono::seconds(50)};
  std::vector<std::uint8_t> payload(4, 1);
  std::uint64_t below = 99;
  std::vector<std::uint64_t> waiting{42};
  m.push(3, 3000, 0, payload, t0);
  m.push(5, 5000, 0, payload, t0);
  EXPECT_FALSE(m.receipt(below, waiting, 100)) << "before the start";
  EXPECT_TRUE(waiting.empty());
  m.push(4, 4000, 0, payload, t0 + 1ms);
  m.push(7, 7000, 1, payload, t0 + 2ms);
  m.push(9, 9000, 1, payload, t0 + 2ms);
  m.release(t0 + Micros(kHoldUs), nullptr, nullptr);
  ASSERT_TRUE(m.receipt(below, waiting, 100));
  EXPECT_EQ(below, 3u);
  EXPECT_EQ(waiting, (std::vector<std::uint64_t>{3, 4, 5, 7, 9}));
  ASSERT_TRUE(m.receipt(below, waiting, 2));
  EXPECT_EQ(waiting, (std::vector<std::uint64_t>{3, 4})) << "only under below + span";
  // 3, 4 and 5 leave, 6 is given up when 7 leaves.
  m.release(m.clock().playoutTime(7000), nullptr, nullptr);
  ASSERT_TRUE(m.receipt(below, waiting, 100));
  EXPECT_EQ(below, 8u);
  EXPECT_EQ(waiting, (std::vector<std::uint64_t>{9}));
}

TEST(Merger, SendsTheOldestEarlyWhenMoreThanMaxBufferedWait) {
  Merger::Options o = options();
  o.max_buffered = 3;
  Merger m(o);
  const TimePoint t0{std::chrono::seconds(1)};
  std::vector<std::uint8_t> payload(4, 1);
  std::vector<std::uint64_t> out;
  auto deliver = [&](const Merger::Packet& p) { out.push_back(p.seq); };
  m.push(0, 0, 0, payload, t0);
  m.release(t0 + Micros(kHoldUs), deliver, nullptr);
  for (std::uint64_t s = 1; s <= 4; ++s) {
    m.push(s, s * 1000, 0, payload, t0 + Micros(kHoldUs));
  }
  m.release(t0 + Micros(kHoldUs), deliver, nullptr);
  EXPECT_EQ(m.buffered(), 3u);
  EXPECT_EQ(m.stats().forced, 2u) << "0 and 1 left early to keep 3 waiting";
  EXPECT_EQ(out, (std::vector<std::uint64_t>{0, 1}));
}

TEST(Merger, RestartsBeyondMaxAheadCountingTheGapLost) {
  Merger::Options o = options();
  o.max_ahead = 1000;
  std::vector<Arrival> arrivals = steady(10, 30'000);
  arrivals.push_back({40'000, 5000, 9000, 0});
  const auto r = drive(arrivals, o);
  EXPECT_EQ(r.stats.restarts, 1u);
  EXPECT_EQ(r.stats.lost, 4990u);
  EXPECT_EQ(seqs(r.out).back(), 5000u);
}

TEST(Merger, RefusesASourceTimeNoClockExplains) {
  std::vector<Arrival> arrivals = steady(500, 30'000);
  // A packet claiming a source time an hour ahead would hold the output for an hour.
  arrivals.push_back({300'000, 500, 3'600'000'000ull, 0});
  const auto r = drive(arrivals, options());
  EXPECT_EQ(r.first_verdict.at(500), Verdict::kClockSkewed);
  EXPECT_EQ(r.stats.clock_skewed, 1u);
  EXPECT_EQ(r.out.size(), 500u);
  EXPECT_EQ(r.stats.lost, 0u);
}

// Found by fuzz/merge_fuzz.cpp: a source time beyond what a clock reads (any u64 can come
// off the wire) overflowed the playout time's arithmetic (undefined behaviour), and before
// the start it was even taken into the clock's floor.
TEST(Merger, RefusesASourceTimeBeyondAnyClockEvenBeforeTheStart) {
  std::vector<Arrival> arrivals = steady(500, 30'000);
  arrivals.push_back({0, 1000, std::uint64_t{1} << 60, 0});       // before the start
  arrivals.push_back({300'000, 1001, ~std::uint64_t{0} - 5, 1});  // and after it
  const auto r = drive(arrivals, options());
  EXPECT_EQ(r.first_verdict.at(1000), Verdict::kClockSkewed);
  EXPECT_EQ(r.first_verdict.at(1001), Verdict::kClockSkewed);
  EXPECT_EQ(r.stats.clock_skewed, 2u);
  ASSERT_EQ(r.out.size(), 500u);
  EXPECT_EQ(r.out.front().playout_us, 30'000 + kLatencyUs);  // the good packets' clock
  EXPECT_EQ(r.stats.lost, 0u);
}

// Found by fuzz/merge_fuzz.cpp: delivering sequence number 2^64 - 1 wrapped the next
// expected one around to 0, and the merge took and delivered again sequence numbers it had
// already delivered, out of order.
TEST(Merger, NeverDeliversTheLastSequenceNumberSoItCannotWrapAround) {
  constexpr std::uint64_t kLast = ~std::uint64_t{0};
  std::vector<Arrival> arrivals = steady(10, 30'000);
  arrivals.push_back({39'500, kLast, 9'000, 0});  // a restart's worth beyond the others
  // After it would have left (at 239 ms): old sequence numbers with source times not yet
  // played out, as a replayed or forged copy carries.
  arrivals.push_back({240'000, 3, 215'000, 1});
  arrivals.push_back({240'000, 4, 216'000, 1});
  const auto r = drive(arrivals, options());
  EXPECT_EQ(r.first_verdict.at(kLast), Verdict::kLate);
  EXPECT_EQ(seqs(r.out), (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(r.stats.restarts, 0u);
  EXPECT_EQ(r.stats.duplicates, 2u);
}

TEST(Merger, FlushDeliversEverythingWaitingInOrderAndCountsTheGaps) {
  Merger m(options());
  const TimePoint t0{std::chrono::seconds(1)};
  std::vector<std::uint8_t> payload(4, 1);
  for (std::uint64_t s : {0, 1, 3, 4, 7}) {
    m.push(s, s * 1000, 0, payload, t0);
  }
  std::vector<std::uint64_t> out;
  std::uint64_t lost = 0;
  m.flush([&](const Merger::Packet& p) { out.push_back(p.seq); },
          [&](std::uint64_t, std::uint64_t n) { lost += n; });
  EXPECT_EQ(out, (std::vector<std::uint64_t>{0, 1, 3, 4, 7}));
  EXPECT_EQ(lost, 3u);
  EXPECT_EQ(m.buffered(), 0u);
  EXPECT_FALSE(m.nextDeadline());
}

TEST(Merger, HandsOverThePayloadLinkAndTimesOfEachPacket) {
  Merger m(options());
  const TimePoint t0{std::chrono::seconds(7)};
  const std::vector<std::uint8_t> a = {1, 2, 3};
  m.push(8, 123456, 2, a, t0);
  std::vector<Merger::Packet> out;
  m.release(
      t0 + 1s, [&](const Merger::Packet& p) { out.push_back(p); }, nullptr);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].seq, 8u);
  EXPECT_EQ(out[0].source_time_us, 123456u);
  EXPECT_EQ(out[0].link, 2);
  EXPECT_EQ(out[0].arrival, t0);
  EXPECT_EQ(out[0].playout, t0 + Micros(kLatencyUs));
  EXPECT_EQ(out[0].payload, a);
}

// --- randomized property test ----------------------------------------------------------
//
//            +-- link 0: 20 ms + 0-30 ms jitter --+
//   sender --+-- link 1: 45 ms + 0-30 ms jitter --+--> Merger (latency 200 ms)
//            +-- link 2: 80 ms + 0-30 ms jitter --+
//
// One packet per millisecond on a random link, some duplicated on another, some copies
// dropped, a few delayed by up to 400 ms. Whatever happens: the output is in order, has
// no packet twice, leaves every packet at its playout time (within 1 ms), and holds every
// packet one of whose copies came by its playout time, and no other.
TEST(Merger, RebuildsAStreamFromThreeJitteryLossyLinks) {
  std::uint32_t base_seed = 20261202;
  if (const char* env = std::getenv("BONDCAST_TEST_SEED")) {
    base_seed = static_cast<std::uint32_t>(std::strtoul(env, nullptr, 10));
  }
  for (std::uint32_t seed = base_seed; seed < base_seed + 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (BONDCAST_TEST_SEED)");
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::uniform_int_distribution<int> jitter(0, 30'000);
    std::uniform_int_distribution<int> spike(0, 400'000);
    std::uniform_int_distribution<int> pick(0, 2);
    const std::int64_t base[3] = {20'000, 45'000, 80'000};
    constexpr std::uint64_t kPackets = 5000;
    std::vector<Arrival> arrivals;
    std::vector<std::optional<std::int64_t>> first(kPackets);
    for (std::uint64_t seq = 0; seq < kPackets; ++seq) {
      const auto src = static_cast<std::int64_t>(seq) * 1000;
      const int primary = seq == 0 ? 0 : pick(rng);
      std::vector<int> links = {primary};
      if (seq > 0 && unit(rng) < 0.1) {
        links.push_back((primary + 1) % 3);
      }
      for (int link : links) {
        if (seq > 0 && unit(rng) < 0.05) {
          continue;
        }
        std::int64_t delay = base[link] + (seq > 0 ? jitter(rng) : 0);
        if (seq > 0 && unit(rng) < 0.02) {
          delay += spike(rng);
        }
        arrivals.push_back({src + delay, seq, static_cast<std::uint64_t>(src), link});
        first[seq] = std::min(first[seq].value_or(src + delay), src + delay);
      }
    }
    const auto r = drive(arrivals, options());
    // Packet 0 came on link 0 with no jitter: the floor is 20 ms, fixed from the start.
    const std::int64_t offset = 20'000 + kLatencyUs;
    std::set<std::uint64_t> out;
    std::uint64_t prev = 0;
    for (const Output& o : r.out) {
      ASSERT_TRUE(out.empty() || o.seq > prev) << "out of order at " << o.seq;
      prev = o.seq;
      out.insert(o.seq);
      ASSERT_EQ(o.playout_us, static_cast<std::int64_t>(o.source_us) + offset);
      ASSERT_LE(o.out_us - o.playout_us, 1000);
    }
    std::uint64_t in_time = 0;
    for (std::uint64_t seq = 0; seq < kPackets; ++seq) {
      const bool came_in_time =
          first[seq] && *first[seq] <= static_cast<std::int64_t>(seq) * 1000 + offset;
      in_time += came_in_time;
      EXPECT_EQ(out.contains(seq), came_in_time) << "seq " << seq;
    }
    EXPECT_EQ(r.stats.delivered, in_time);
    EXPECT_EQ(r.stats.lost, kPackets - in_time);
    EXPECT_GT(r.stats.late, 0u) << "the spikes make some copies late";
  }
}

}  // namespace
}  // namespace bondcast::playout
