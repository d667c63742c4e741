// Merger tests on a fake clock: `now` is a TimePoint the test advances by hand.
#include "receiver/merge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace bondcast::receiver {
namespace {

using namespace std::chrono_literals;
using TimePoint = Merger::TimePoint;
using Verdict = Merger::Verdict;
using LostRun = std::pair<std::uint64_t, std::uint64_t>;

constexpr std::chrono::microseconds kWindow = 200ms;

// One Merger, a clock the test moves, and everything the callbacks were given.
struct Harness {
  explicit Harness(Merger::Options options = {}) : merger(options) {}

  Verdict push(std::uint64_t seq, std::size_t bytes = 100, int link = 0) {
    return merger.push(seq, seq * 1000, link, std::vector<std::uint8_t>(bytes, 0xAB), now);
  }
  void release() {
    merger.release(
        now, [this](const Merger::Packet& p) { delivered.push_back(p.seq); },
        [this](std::uint64_t first, std::uint64_t count) { lost.emplace_back(first, count); });
  }
  void flush() {
    merger.flush(
        [this](const Merger::Packet& p) { delivered.push_back(p.seq); },
        [this](std::uint64_t first, std::uint64_t count) { lost.emplace_back(first, count); });
  }
  // Pushes `seqs` at the current time and lets the start-up hold pass.
  void start(std::initializer_list<std::uint64_t> seqs) {
    for (auto s : seqs)
      push(s);
    now += kWindow;
    release();
  }

  Merger merger;
  TimePoint now{std::chrono::seconds(1000)};
  std::vector<std::uint64_t> delivered;
  std::vector<LostRun> lost;
};

using Seqs = std::vector<std::uint64_t>;
using Runs = std::vector<LostRun>;

TEST(Merger, HoldsTheFirstPacketsForOneReorderWindowThenDeliversInOrder) {
  Harness h;
  EXPECT_EQ(h.push(0), Verdict::kAccepted);
  EXPECT_EQ(h.push(1), Verdict::kAccepted);
  h.release();
  EXPECT_TRUE(h.delivered.empty());
  h.now += kWindow - 1us;
  h.release();
  EXPECT_TRUE(h.delivered.empty()) << "released before the hold ended";
  h.now += 1us;
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0, 1}));
  // After the hold, the next packet in order goes out at once.
  h.push(2);
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0, 1, 2}));
  EXPECT_TRUE(h.lost.empty());
  EXPECT_EQ(h.merger.buffered(), 0u);
}

TEST(Merger, DeliversOutOfOrderArrivalsWithinTheWindowInOrder) {
  Harness h;
  h.start({0});
  h.push(3);
  h.release();
  h.now += 50ms;
  h.push(1);
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0, 1})) << "1 is next; 3 waits for 2";
  h.now += 100ms;
  h.push(4);
  h.push(2);
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0, 1, 2, 3, 4}));
  EXPECT_TRUE(h.lost.empty());
  EXPECT_EQ(h.merger.stats().lost, 0u);
  EXPECT_EQ(h.merger.stats().late, 0u);
}

TEST(Merger, DropsAndCountsDuplicatesWhetherWaitingOrDelivered) {
  Harness h;
  h.push(0);
  EXPECT_EQ(h.push(0, 100, 1), Verdict::kDuplicate) << "copy during the start-up hold";
  h.now += kWindow;
  h.release();
  EXPECT_EQ(h.push(0, 100, 2), Verdict::kDuplicate) << "copy of a delivered packet";
  EXPECT_EQ(h.push(2), Verdict::kAccepted);
  EXPECT_EQ(h.push(2, 100, 1), Verdict::kDuplicate) << "copy of a packet waiting behind a gap";
  h.push(1);
  h.release();
  EXPECT_EQ(h.push(2, 100, 2), Verdict::kDuplicate);
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0, 1, 2}));
  EXPECT_EQ(h.merger.stats().duplicates, 4u);
  EXPECT_EQ(h.merger.stats().accepted, 3u);
  EXPECT_EQ(h.merger.stats().late, 0u);
}

TEST(Merger, GivesUpOnAGapWhenThePacketBehindItHasWaitedTheWindow) {
  Harness h;
  h.start({0});
  const TimePoint arrival = h.now;
  h.push(2);
  h.release();
  h.now = arrival + kWindow - 1us;
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0})) << "gave up 1 us early";
  EXPECT_TRUE(h.lost.empty());
  h.now = arrival + kWindow;
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0, 2}));
  EXPECT_EQ(h.lost, (Runs{{1, 1}}));
  EXPECT_EQ(h.merger.stats().lost, 1u);
  EXPECT_EQ(h.merger.stats().forced_gaps, 0u);
  EXPECT_EQ(h.merger.stats().restarts, 0u);
}

TEST(Merger, ReportsARunOfMissingPacketsAsOneLostCall) {
  Harness h;
  h.start({10});
  h.push(14);
  h.now += kWindow;
  h.release();
  EXPECT_EQ(h.lost, (Runs{{11, 3}}));
  EXPECT_EQ(h.delivered, (Seqs{10, 14}));
  EXPECT_EQ(h.merger.stats().lost, 3u);
}

TEST(Merger, CountsAStragglerAfterGiveUpAsLateAndDoesNotDeliverIt) {
  Harness h;
  h.start({0});
  h.push(2);
  h.now += kWindow;
  h.release();
  ASSERT_EQ(h.lost, (Runs{{1, 1}}));
  EXPECT_EQ(h.push(1), Verdict::kLate);
  EXPECT_EQ(h.push(1, 100, 1), Verdict::kLate) << "every late copy is late";
  h.release();
  h.flush();
  EXPECT_EQ(h.delivered, (Seqs{0, 2}));
  EXPECT_EQ(h.merger.stats().late, 2u);
  EXPECT_EQ(h.merger.stats().duplicates, 0u);
  EXPECT_EQ(h.merger.stats().lost, 1u) << "a late packet is not counted twice";
}

TEST(Merger, StartsAtTheLowestSequenceSeenDuringTheFirstWindow) {
  Harness h;
  const TimePoint first = h.now;
  h.push(5);
  h.now = first + 100ms;
  h.push(3);
  h.now = first + kWindow - 1us;
  h.push(4);
  h.release();
  EXPECT_TRUE(h.delivered.empty());
  h.now = first + kWindow;
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{3, 4, 5}));
  // A lower sequence number after the hold is late: the stream has started without it.
  EXPECT_EQ(h.push(2), Verdict::kLate);
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{3, 4, 5}));
  EXPECT_EQ(h.merger.stats().late, 1u);
  EXPECT_EQ(h.merger.stats().duplicates, 0u);
  EXPECT_TRUE(h.lost.empty());
}

TEST(Merger, ForcesTheOldestGapWhenMoreThanMaxBufferedPacketsWait) {
  Harness h({.reorder_window = kWindow, .max_buffered = 3, .max_ahead = 1'000'000});
  h.start({0});
  h.push(2);
  h.push(3);
  h.push(4);
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0})) << "three waiting is not more than max_buffered";
  EXPECT_EQ(h.merger.buffered(), 3u);
  h.push(6);
  h.release();  // no time has passed: only the buffer limit gives up 1
  EXPECT_EQ(h.delivered, (Seqs{0, 2, 3, 4}));
  EXPECT_EQ(h.lost, (Runs{{1, 1}}));
  EXPECT_EQ(h.merger.stats().forced_gaps, 1u);
  EXPECT_LE(h.merger.buffered(), 3u);
  EXPECT_EQ(h.merger.stats().max_reorder_depth, 4u);
}

TEST(Merger, WaitsForAGapOfExactlyMaxAhead) {
  Harness h({.reorder_window = kWindow, .max_buffered = 16384, .max_ahead = 100});
  h.start({0});
  h.push(101);  // 100 beyond the next expected (1)
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0}));
  EXPECT_EQ(h.merger.stats().restarts, 0u);
  h.push(1);
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0, 1}));
}

TEST(Merger, RestartsBeyondMaxAheadCountingTheGapLost) {
  Harness h({.reorder_window = kWindow, .max_buffered = 16384, .max_ahead = 100});
  h.start({0});
  h.push(102);  // 101 beyond the next expected (1)
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0, 102})) << "restarted without waiting";
  EXPECT_EQ(h.lost, (Runs{{1, 101}}));
  EXPECT_EQ(h.merger.stats().restarts, 1u);
  EXPECT_EQ(h.merger.stats().lost, 101u);
  EXPECT_EQ(h.push(50), Verdict::kLate);
  EXPECT_EQ(h.push(103), Verdict::kAccepted);
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{0, 102, 103}));
}

TEST(Merger, FlushDeliversEverythingWaitingAndCountsTheGaps) {
  Harness h;
  h.start({0});
  h.push(5);
  h.push(2);
  h.push(3);
  h.release();
  ASSERT_EQ(h.delivered, (Seqs{0}));
  h.flush();  // no time has passed
  EXPECT_EQ(h.delivered, (Seqs{0, 2, 3, 5}));
  EXPECT_EQ(h.lost, (Runs{{1, 1}, {4, 1}}));
  EXPECT_EQ(h.merger.stats().lost, 2u);
  EXPECT_EQ(h.merger.buffered(), 0u);
  EXPECT_EQ(h.merger.nextDeadline(), std::nullopt);
}

TEST(Merger, FlushDuringTheStartUpHoldStartsAtTheLowestSequence) {
  Harness h;
  h.push(7);
  h.push(5);
  h.flush();
  EXPECT_EQ(h.delivered, (Seqs{5, 7}));
  EXPECT_EQ(h.lost, (Runs{{6, 1}}));
}

TEST(Merger, TellsWhenReleaseNextHasWorkToDo) {
  Harness h;
  EXPECT_EQ(h.merger.nextDeadline(), std::nullopt) << "nothing ever pushed";
  const TimePoint first = h.now;
  h.push(0);
  EXPECT_EQ(h.merger.nextDeadline(), first + kWindow) << "end of the start-up hold";
  h.now += 150ms;
  h.push(1);
  EXPECT_EQ(h.merger.nextDeadline(), first + kWindow) << "the hold runs from the first packet";
  h.now = first + kWindow;
  h.release();
  EXPECT_EQ(h.merger.nextDeadline(), std::nullopt) << "started, nothing waiting";
  h.now += 10ms;
  const TimePoint behind_gap = h.now;
  h.push(3);
  h.release();
  EXPECT_EQ(h.merger.nextDeadline(), behind_gap + kWindow) << "a packet waiting behind a gap";
  h.now += 30ms;
  h.push(4);
  EXPECT_EQ(h.merger.nextDeadline(), behind_gap + kWindow) << "the head decides, not the newest";
  h.push(2);
  EXPECT_EQ(h.merger.nextDeadline(), h.now) << "the next packet is ready now";
  h.release();
  EXPECT_EQ(h.merger.nextDeadline(), std::nullopt);
  EXPECT_EQ(h.delivered, (Seqs{0, 1, 2, 3, 4}));
}

TEST(Merger, CountsEveryDecisionInItsStats) {
  Harness h;
  h.push(0, 100);
  h.push(1, 200);
  h.push(1, 200);  // duplicate while waiting
  h.now += kWindow;
  h.release();
  h.push(5, 50);
  h.push(4, 40);
  h.push(6, 60);
  h.release();  // 4, 5, 6 wait behind 2 and 3
  h.now += kWindow;
  h.release();     // gives up 2-3
  h.push(3, 30);   // late
  h.push(0, 100);  // duplicate of a delivered packet
  const Merger::Stats& s = h.merger.stats();
  EXPECT_EQ(s.accepted, 5u);
  EXPECT_EQ(s.delivered, 5u);
  EXPECT_EQ(s.delivered_bytes, 100u + 200u + 40u + 50u + 60u);
  EXPECT_EQ(s.duplicates, 2u);
  EXPECT_EQ(s.late, 1u);
  EXPECT_EQ(s.lost, 2u);
  EXPECT_EQ(s.forced_gaps, 0u);
  EXPECT_EQ(s.restarts, 0u);
  EXPECT_EQ(s.max_reorder_depth, 3u);
  EXPECT_EQ(h.delivered, (Seqs{0, 1, 4, 5, 6}));
}

TEST(Merger, HandsOverThePayloadLinkAndSourceTimeOfEachPacket) {
  Merger m({});
  TimePoint now{std::chrono::seconds(5)};
  const std::vector<std::uint8_t> a = {1, 2, 3};
  const std::vector<std::uint8_t> b = {9};
  m.push(8, 123456, 2, a, now);
  m.push(9, 123999, 0, b, now + 1ms);
  std::vector<Merger::Packet> out;
  m.release(now + kWindow, [&](const Merger::Packet& p) { out.push_back(p); }, {});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].seq, 8u);
  EXPECT_EQ(out[0].source_time_us, 123456u);
  EXPECT_EQ(out[0].link, 2);
  EXPECT_EQ(out[0].arrival, now);
  EXPECT_EQ(out[0].payload, a);
  EXPECT_EQ(out[1].link, 0);
  EXPECT_EQ(out[1].payload, b);
}

// --- randomized property test ----------------------------------------------------------
//
//            +-- link 0: 20 ms + 0-30 ms jitter --+
//   sender --+-- link 1: 45 ms + 0-30 ms jitter --+--> receiver: Merger (window 200 ms)
//            +-- link 2: 80 ms + 0-30 ms jitter --+
//
// One packet per millisecond, each on a random link; some also duplicated on another
// link, some copies dropped, a few delayed by a spike of up to 400 ms (so some arrive
// after the merge gave up on them). The first and the last packet always arrive without
// a spike: the stream starts at 0, and its end is not a gap (nothing arrives behind a
// dropped last packet, so no merge can count it). Events are processed in time order; release()
// runs after each arrival time and at every nextDeadline().
struct Copy {
  std::uint64_t seq;
  int link;
};

struct SimResult {
  std::vector<std::uint64_t> delivered;
  std::set<std::uint64_t> lost;
  std::vector<bool> dropped;                            // no copy of it arrived
  std::vector<std::optional<std::int64_t>> arrival_us;  // first copy
  Merger::Stats stats;
  bool deadlines_in_future = true;
  bool payloads_match = true;
};

SimResult simulate(std::uint32_t seed, std::uint64_t n) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> jitter_us(0, 30'000);
  std::uniform_int_distribution<int> spike_us(0, 400'000);
  std::uniform_int_distribution<int> pick_link(0, 2);
  const std::int64_t base_us[3] = {20'000, 45'000, 80'000};

  SimResult r;
  r.dropped.assign(n, true);
  r.arrival_us.assign(n, std::nullopt);
  std::multimap<std::int64_t, Copy> events;  // arrival time (us) -> copy
  for (std::uint64_t seq = 0; seq < n; ++seq) {
    const std::int64_t sent_us = static_cast<std::int64_t>(seq) * 1000;
    const int primary = pick_link(rng);
    std::vector<int> links = {primary};
    if (unit(rng) < 0.10)
      links.push_back((primary + 1 + pick_link(rng) % 2) % 3);
    const bool clean = seq == 0 || seq + 1 == n;
    for (int link : links) {
      if (!clean && unit(rng) < 0.05)
        continue;  // dropped on this link
      std::int64_t delay = base_us[link] + jitter_us(rng);
      if (!clean && unit(rng) < 0.02)
        delay += spike_us(rng);
      const std::int64_t at = sent_us + delay;
      events.emplace(at, Copy{seq, link});
      r.dropped[seq] = false;
      if (!r.arrival_us[seq] || at < *r.arrival_us[seq])
        r.arrival_us[seq] = at;
    }
  }

  Merger merger({.reorder_window = kWindow, .max_buffered = 16384, .max_ahead = 1'000'000});
  const TimePoint origin{std::chrono::seconds(1)};
  auto deliver = [&](const Merger::Packet& p) {
    r.delivered.push_back(p.seq);
    if (p.payload.size() != 8 || p.payload[0] != static_cast<std::uint8_t>(p.seq) ||
        p.source_time_us != p.seq * 1000)
      r.payloads_match = false;
  };
  auto lost = [&](std::uint64_t first, std::uint64_t count) {
    for (std::uint64_t s = first; s < first + count; ++s)
      r.lost.insert(s);
  };
  auto it = events.begin();
  while (true) {
    const auto deadline = merger.nextDeadline();
    TimePoint now;
    if (it != events.end() &&
        (!deadline || origin + std::chrono::microseconds(it->first) <= *deadline)) {
      const std::int64_t at = it->first;
      now = origin + std::chrono::microseconds(at);
      for (; it != events.end() && it->first == at; ++it) {
        const std::uint64_t seq = it->second.seq;
        std::vector<std::uint8_t> payload(8, static_cast<std::uint8_t>(seq));
        merger.push(seq, seq * 1000, it->second.link, payload, now);
      }
    } else if (deadline) {
      now = *deadline;
    } else {
      break;
    }
    merger.release(now, deliver, lost);
    if (const auto next = merger.nextDeadline(); next && *next <= now) {
      r.deadlines_in_future = false;  // would spin: release() left work for "now"
      break;
    }
  }
  merger.flush(deliver, lost);
  r.stats = merger.stats();
  return r;
}

TEST(Merger, RebuildsAStreamFromThreeJitteryLossyLinks) {
  std::uint32_t base_seed = 20240611;
  if (const char* env = std::getenv("BONDCAST_TEST_SEED"))
    base_seed = static_cast<std::uint32_t>(std::strtoul(env, nullptr, 10));
  constexpr std::uint64_t kPackets = 5000;
  std::uint64_t total_late = 0;
  std::uint64_t total_slow_but_delivered = 0;
  for (std::uint32_t seed = base_seed; seed < base_seed + 5; ++seed) {
    std::cout << "Merger property test seed " << seed << " (BONDCAST_TEST_SEED)\n";
    SCOPED_TRACE("seed " + std::to_string(seed));
    const SimResult r = simulate(seed, kPackets);
    ASSERT_TRUE(r.deadlines_in_future) << "nextDeadline() not after release()";
    EXPECT_TRUE(r.payloads_match);

    // In order, each once.
    for (std::size_t i = 1; i < r.delivered.size(); ++i)
      ASSERT_LT(r.delivered[i - 1], r.delivered[i]) << "at output index " << i;
    // Every sequence number either delivered or lost, never both.
    EXPECT_EQ(r.delivered.size() + r.lost.size(), kPackets);
    EXPECT_EQ(r.stats.delivered + r.stats.lost, kPackets);
    EXPECT_EQ(r.stats.delivered, r.delivered.size());
    for (std::uint64_t s : r.delivered)
      EXPECT_FALSE(r.lost.contains(s)) << "seq " << s << " delivered and lost";
    EXPECT_EQ(r.stats.restarts, 0u);
    EXPECT_EQ(r.stats.forced_gaps, 0u);

    // Lateness: how long after some later packet a packet first arrived. Below the
    // window, the merge must have waited for it.
    const std::set<std::uint64_t> delivered(r.delivered.begin(), r.delivered.end());
    std::optional<std::int64_t> earliest_later;
    for (std::uint64_t s = kPackets; s-- > 0;) {
      if (r.dropped[s]) {
        EXPECT_FALSE(delivered.contains(s)) << "seq " << s << " was never sent";
        continue;
      }
      const std::int64_t lateness_us = earliest_later ? *r.arrival_us[s] - *earliest_later : 0;
      if (lateness_us < kWindow.count()) {
        EXPECT_TRUE(delivered.contains(s)) << "seq " << s << " " << lateness_us << " us late";
        if (lateness_us > kWindow.count() / 2)
          ++total_slow_but_delivered;
      }
      if (!earliest_later || *r.arrival_us[s] < *earliest_later)
        earliest_later = r.arrival_us[s];
    }
    total_late += r.stats.late;
    EXPECT_GT(r.stats.duplicates, 0u);
    EXPECT_GT(r.stats.lost, 0u);
  }
  // The scenario exercises both sides of the window.
  EXPECT_GT(total_late, 0u);
  EXPECT_GT(total_slow_but_delivered, 0u);
}

}  // namespace
}  // namespace bondcast::receiver

namespace bondcast::receiver {
namespace {

TEST(Merger, AShorterStartUpHoldStartsTheStreamSooner) {
  Merger::Options o;
  o.reorder_window = std::chrono::milliseconds(300);
  o.startup_hold = std::chrono::milliseconds(100);
  Harness h(o);
  h.push(5);
  h.push(4);
  EXPECT_EQ(*h.merger.nextDeadline(), h.now + std::chrono::milliseconds(100));
  h.now += std::chrono::milliseconds(99);
  h.release();
  EXPECT_TRUE(h.delivered.empty());
  h.now += std::chrono::milliseconds(1);
  h.release();
  EXPECT_EQ(h.delivered, (Seqs{4, 5}));
  EXPECT_EQ(h.push(3), Verdict::kLate);  // below the start, after the hold
}

// Straggler deadline: two links whose SRT connections release packets 20 ms and 60 ms
// after their source time (the receiver's clock runs 1000 s ahead of the sender's). A
// gap is given up at the head's source time + the larger offset + the margin, long
// before the 300 ms window, unless the offsets say a straggler may still come.
struct TwoLinks {
  static constexpr std::int64_t kClockSkewUs = 1'000'000'000;
  TwoLinks() : merger(options()) {}
  static Merger::Options options() {
    Merger::Options o;
    o.reorder_window = std::chrono::milliseconds(300);
    o.straggler_margin = std::chrono::milliseconds(10);
    return o;
  }
  // Packet `seq` has source time seq ms; it arrives over `link` offset_ms later.
  void arrive(std::uint64_t seq, int link, std::int64_t offset_ms) {
    now = TimePoint(std::chrono::microseconds(kClockSkewUs + static_cast<std::int64_t>(seq) * 1000 +
                                              offset_ms * 1000));
    merger.push(seq, seq * 1000, link, std::vector<std::uint8_t>(10, 1), now);
  }
  void releaseAt(TimePoint t) {
    merger.release(
        t, [this](const Merger::Packet& p) { delivered.push_back(p.seq); },
        [this](std::uint64_t first, std::uint64_t count) { lost.emplace_back(first, count); });
  }
  Merger merger;
  TimePoint now{};
  std::vector<std::uint64_t> delivered;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> lost;
};

TEST(MergerStragglerDeadline, GivesUpAGapOnceTheSlowestLinkCouldNoLongerBringIt) {
  TwoLinks t;
  // Both links carry packets for a while: offsets 20 ms (link 0) and 60 ms (link 1).
  for (std::uint64_t seq = 0; seq < 400; ++seq)
    t.arrive(seq, static_cast<int>(seq % 2), seq % 2 == 0 ? 20 : 60);
  t.releaseAt(t.now);
  ASSERT_EQ(t.delivered.size(), 400u);  // all in order, the start-up hold long past
  // Seq 400 never comes (the sender skipped it); 401 arrives on link 0.
  t.arrive(401, 0, 20);
  const TimePoint head_arrival = t.now;  // source 401 ms + 20 ms
  // Deadline: source 401 ms + the largest offset (60 ms) + margin (10 ms) = +50 ms.
  ASSERT_TRUE(t.merger.nextDeadline());
  EXPECT_EQ(*t.merger.nextDeadline(), head_arrival + std::chrono::milliseconds(50));
  t.releaseAt(head_arrival + std::chrono::milliseconds(49));
  EXPECT_TRUE(t.lost.empty());
  t.releaseAt(head_arrival + std::chrono::milliseconds(50));
  ASSERT_EQ(t.lost.size(), 1u);
  EXPECT_EQ(t.lost[0], std::make_pair(std::uint64_t{400}, std::uint64_t{1}));
  EXPECT_EQ(t.delivered.back(), 401u);
  EXPECT_EQ(t.merger.stats().straggler_give_ups, 1u);
}

TEST(MergerStragglerDeadline, WaitsForAPacketTheSlowLinkCanStillBring) {
  TwoLinks t;
  for (std::uint64_t seq = 0; seq < 400; ++seq)
    t.arrive(seq, static_cast<int>(seq % 2), seq % 2 == 0 ? 20 : 60);
  t.releaseAt(t.now);
  // 401 arrives on the fast link; 400 comes on the slow one 40 ms later: in time.
  t.arrive(401, 0, 20);
  t.releaseAt(t.now);
  t.arrive(400, 1, 60);
  t.releaseAt(t.now);
  EXPECT_TRUE(t.lost.empty());
  ASSERT_GE(t.delivered.size(), 2u);
  EXPECT_EQ(t.delivered[t.delivered.size() - 2], 400u);
  EXPECT_EQ(t.delivered.back(), 401u);
}

TEST(MergerStragglerDeadline, NeverWaitsLongerThanTheReorderWindow) {
  TwoLinks t;
  // Link 1's floor is 900 ms: beyond the 300 ms window, which wins.
  for (std::uint64_t seq = 0; seq < 10; ++seq)
    t.arrive(seq, static_cast<int>(seq % 2), seq % 2 == 0 ? 20 : 900);
  t.arrive(11, 0, 20);
  const TimePoint head_arrival = t.now;
  t.releaseAt(head_arrival + std::chrono::seconds(1));  // past the start-up hold
  t.delivered.clear();
  t.lost.clear();
  t.arrive(21, 0, 20);
  const TimePoint arrival = t.now;
  EXPECT_EQ(*t.merger.nextDeadline(), arrival + std::chrono::milliseconds(300));
}

TEST(MergerStragglerDeadline, ForgetsALinkThatFellSilent) {
  TwoLinks t;
  for (std::uint64_t seq = 0; seq < 100; ++seq)
    t.arrive(seq, static_cast<int>(seq % 2), seq % 2 == 0 ? 20 : 200);
  t.releaseAt(t.now + std::chrono::seconds(1));
  // Link 1 dies; 11 s later only link 0 is heard: a gap waits for link 0's floor only.
  t.arrive(11'100, 0, 20);
  t.releaseAt(t.now + std::chrono::milliseconds(15));
  ASSERT_EQ(t.delivered.back(), 11'100u);
  t.arrive(11'150, 0, 20);
  const TimePoint arrival = t.now;
  ASSERT_TRUE(t.merger.nextDeadline());
  EXPECT_EQ(*t.merger.nextDeadline(), arrival + std::chrono::milliseconds(10));
}

}  // namespace
}  // namespace bondcast::receiver
