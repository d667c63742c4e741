// SPDX-License-Identifier: MPL-2.0
// The playout clock on a fake clock: the offset comes from the fastest link's floor,
// follows clock drift, and is not dragged by a congested link.
#include "playout/playout_clock.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "playout/merge.h"
#include "tests/playout/playout_test_support.h"

namespace bondcast::playout {
namespace {

using namespace std::chrono_literals;
using testing::Arrival;
using testing::drive;
using testing::Output;

constexpr std::int64_t kLatencyUs = 300'000;

// Two links to one receiver, one packet per millisecond, alternating links:
//
//   sender --[link 0: 20 ms + 0-5 ms jitter]--+
//          --[link 1: 50 ms + 0-5 ms jitter]--+--> receiver clock = skew(true time)
//
// `extra_delay_us(link, t)` adds to a link's delay at true time t (congestion). The
// sender's clock is true time; the receiver's reads `offset_us + (1 + ppm/1e6) x t`.
struct TwoLinks {
  std::int64_t offset_us = 0;
  double ppm = 0;
  std::function<std::int64_t(int, std::int64_t)> extra_delay_us = [](int, std::int64_t) {
    return 0;
  };
  std::int64_t seconds = 60;

  std::int64_t receiverClock(std::int64_t true_us) const {
    return offset_us + static_cast<std::int64_t>(
                           std::llround(static_cast<double>(true_us) * (1.0 + ppm * 1e-6)));
  }
  double trueTime(std::int64_t receiver_us) const {
    return static_cast<double>(receiver_us - offset_us) / (1.0 + ppm * 1e-6);
  }
  std::vector<Arrival> arrivals() const {
    std::mt19937 rng(17);
    std::uniform_int_distribution<int> jitter(0, 5000);
    std::vector<Arrival> out;
    for (std::int64_t i = 0; i < seconds * 1000; ++i) {
      const std::int64_t src = 1'000'000 + i * 1000;  // the sender's clock
      const int link = static_cast<int>(i % 2);
      const std::int64_t delay =
          (link == 0 ? 20'000 : 50'000) + jitter(rng) + extra_delay_us(link, src);
      out.push_back({receiverClock(src + delay), static_cast<std::uint64_t>(i),
                     static_cast<std::uint64_t>(src), link});
    }
    return out;
  }
  // True-time delay from source to output of every packet that came out.
  std::vector<double> outputDelays(const std::vector<Output>& out) const {
    std::vector<double> d;
    for (const Output& o : out) {
      d.push_back(trueTime(o.out_us) - static_cast<double>(o.source_us));
    }
    return d;
  }
};

Merger::Options options() {
  return sessionOptions(Micros(kLatencyUs));
}

TEST(PlayoutClock, TheOutputIsTheLatencyBehindTheFastestLink) {
  TwoLinks links;
  const auto r = drive(links.arrivals(), options());
  ASSERT_EQ(r.out.size(), 60'000u);
  for (const double d : links.outputDelays(r.out)) {
    ASSERT_NEAR(d, 20'000 + kLatencyUs, 1000) << "fastest link's 20 ms + the latency";
  }
}

TEST(PlayoutClock, AReceiverClockHoursAwayAndDrifting100PpmChangesNothing) {
  TwoLinks same;
  const auto reference = drive(same.arrivals(), options());
  for (const double ppm : {100.0, -100.0}) {
    SCOPED_TRACE("receiver clock " + std::to_string(ppm) + " ppm, 5 h ahead");
    TwoLinks skewed;
    skewed.offset_us = 5LL * 3600 * 1'000'000;
    skewed.ppm = ppm;
    const auto r = drive(skewed.arrivals(), options());
    ASSERT_EQ(r.out.size(), reference.out.size());
    EXPECT_EQ(r.stats.late, reference.stats.late);
    const auto expected = same.outputDelays(reference.out);
    const auto got = skewed.outputDelays(r.out);
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      worst = std::max(worst, std::abs(got[i] - expected[i]));
    }
    EXPECT_LE(worst, 1000.0) << "output delay moved by up to " << worst << " us";
  }
}

// Either link queues from 10 s: +150 ms over 5 s, held for 20 s (longer than the floor
// window). The offset stays where it was: only what moves every link's floor moves it.
TEST(PlayoutClock, ACongestedLinksRisingDelayDoesNotMoveTheOffset) {
  for (const int congested : {0, 1}) {
    SCOPED_TRACE("link " + std::to_string(congested) + " congested");
    TwoLinks links;
    links.extra_delay_us = [congested](int link, std::int64_t t) -> std::int64_t {
      const double s = static_cast<double>(t - 1'000'000) / 1e6;
      if (link != congested || s < 10 || s > 35) {
        return 0;
      }
      return static_cast<std::int64_t>(150'000 * std::min(1.0, (s - 10) / 5));
    };
    const auto r = drive(links.arrivals(), options());
    // From 5 s on (the jitter's floor found), until the end.
    const std::int64_t before = r.offsets_us[10'000];
    for (std::size_t i = 10'000; i < r.offsets_us.size(); ++i) {
      ASSERT_NEAR(r.offsets_us[i], before, 50) << "offset moved at arrival " << i;
    }
    // Link 1 at 50 ms and link 0 at up to 175 ms both fit in 20 ms + 300 ms.
    EXPECT_EQ(r.stats.lost, 0u);
  }
}

TEST(PlayoutClock, DelaySpikesOnTheOnlyLinkDoNotMoveTheOffset) {
  // One link, spikes of +150 ms for 2 s every 5 s.
  std::vector<Arrival> arrivals;
  for (std::int64_t i = 0; i < 40'000; ++i) {
    const std::int64_t src = i * 1000;
    const bool spike = (src / 1'000'000) % 5 >= 3;
    arrivals.push_back({src + 30'000 + (spike ? 150'000 : 0), static_cast<std::uint64_t>(i),
                        static_cast<std::uint64_t>(src), 0});
  }
  const auto r = drive(arrivals, options());
  for (const Output& o : r.out) {
    ASSERT_EQ(o.playout_us - static_cast<std::int64_t>(o.source_us), 30'000 + kLatencyUs);
  }
  EXPECT_EQ(r.out.size(), 40'000u);
}

TEST(PlayoutClock, FollowsAFasterLinkDownNoFasterThanOnePercent) {
  PlayoutClock clock({.latency = Micros(kLatencyUs)});
  const TimePoint t0{std::chrono::seconds(100)};
  clock.observe(0, 0, t0 + 80ms);  // link 0: 80 ms
  clock.start();
  EXPECT_EQ(clock.offsetUs(), 100'000'000 + 80'000 + kLatencyUs);
  // Link 1 joins at 30 ms: 50 ms faster. After 1 s the offset moved down by 10 ms.
  for (int ms = 1; ms <= 1000; ++ms) {
    clock.observe(ms % 2, static_cast<std::uint64_t>(ms) * 1000,
                  t0 + std::chrono::milliseconds(ms) + (ms % 2 ? 30ms : 80ms));
  }
  EXPECT_NEAR(clock.movedUs(), -10'000, 300);
  const auto delays = clock.linkDelays(t0 + 1s);
  ASSERT_EQ(delays.size(), 2u);
  EXPECT_EQ(delays[0].above_fastest, 50ms);
  EXPECT_EQ(delays[1].above_fastest, 0us);
}

TEST(PlayoutClock, WhenTheFastestLinkGoesQuietTheOffsetStays) {
  PlayoutClock clock({.latency = Micros(kLatencyUs), .floor_window = 1s});
  const TimePoint t0{std::chrono::seconds(10)};
  for (int ms = 0; ms < 100; ++ms) {
    clock.observe(ms % 2, static_cast<std::uint64_t>(ms) * 1000,
                  t0 + std::chrono::milliseconds(ms) + (ms % 2 ? 60ms : 20ms));
  }
  clock.start();
  const std::int64_t at_start = clock.offsetUs();
  // Link 0 (20 ms) goes dark; link 1 (60 ms) carries on for 10 s: its floor does not
  // move, so neither does the offset (the output stays 20 ms + the latency behind).
  for (int ms = 100; ms < 10'100; ms += 2) {
    clock.observe(1, static_cast<std::uint64_t>(ms) * 1000,
                  t0 + std::chrono::milliseconds(ms) + 60ms);
  }
  EXPECT_EQ(clock.offsetUs(), at_start);
  const auto delays = clock.linkDelays(t0 + 10s);
  EXPECT_FALSE(delays[0].recent);
  EXPECT_TRUE(delays[1].recent);
}

// A receipt goes back on the fastest link heard lately; when it goes quiet, the next
// fastest takes over; every fifth round goes on every link, and so does every round when
// no link was heard lately.
TEST(PlayoutClock, ReceiptsGoBackOnTheFastestLinkStillHeard) {
  PlayoutClock clock({.latency = Micros(kLatencyUs)});
  const TimePoint t0{std::chrono::seconds(10)};
  EXPECT_EQ(clock.fastestLinkHeardWithin(t0, kReceiptLinkAlive), std::nullopt);
  for (int ms = 0; ms < 100; ++ms) {  // link 2: 20 ms, link 0: 60 ms, link 1: 40 ms
    const int link = ms % 3;
    clock.observe(link, static_cast<std::uint64_t>(ms) * 1000,
                  t0 + std::chrono::milliseconds(ms) +
                      (link == 2   ? 20ms
                       : link == 0 ? 60ms
                                   : 40ms));
  }
  const TimePoint heard_all = t0 + 160ms;
  EXPECT_EQ(clock.fastestLinkHeardWithin(heard_all, kReceiptLinkAlive), 2);
  // Link 2 goes quiet: 50 ms later link 1 takes over.
  for (int ms = 100; ms < 200; ++ms) {
    const int link = ms % 3;
    if (link != 2) {
      clock.observe(link, static_cast<std::uint64_t>(ms) * 1000,
                    t0 + std::chrono::milliseconds(ms) + (link == 0 ? 60ms : 40ms));
    }
  }
  EXPECT_EQ(clock.fastestLinkHeardWithin(t0 + 118ms + 50ms, kReceiptLinkAlive), 2);
  EXPECT_EQ(clock.fastestLinkHeardWithin(t0 + 118ms + 51ms, kReceiptLinkAlive), 1);
  EXPECT_EQ(clock.fastestLinkHeardWithin(t0 + 10s, kReceiptLinkAlive), std::nullopt);

  EXPECT_TRUE(receiptGoesOn(1, 1, 1));
  EXPECT_FALSE(receiptGoesOn(0, 1, 1));
  EXPECT_TRUE(receiptGoesOn(0, 1, kReceiptAllLinksEvery));
  EXPECT_TRUE(receiptGoesOn(0, std::nullopt, 1));
}

}  // namespace
}  // namespace bondcast::playout
