// SPDX-License-Identifier: MPL-2.0
// The link model on a simulated clock: exact schedules, seconds of traffic in
// milliseconds of test time.
#include "eval/emulator/link_model.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/support/shared_dir.h"

namespace bondcast::emu {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Us = std::chrono::microseconds;

DirectionConfig dir(const std::string& spec) {
  auto link = parseLinkSpec("to=127.0.0.1:9," + spec);
  EXPECT_TRUE(link.ok()) << link.error().message;
  return link.ok() ? link->fwd : DirectionConfig{};
}

std::vector<TimedAction> timeline(std::initializer_list<const char*> events) {
  std::vector<Event> parsed;
  for (const char* e : events) {
    auto ev = parseEvent(e);
    EXPECT_TRUE(ev.ok()) << ev.error().message;
    if (ev.ok())
      parsed.push_back(*ev);
  }
  return timelineFor(parsed, 0, Direction::Forward);
}

// Drives one model: offers packets in time order, polls whenever asked to.
struct Sim {
  explicit Sim(const DirectionConfig& c, std::vector<TimedAction> t = {}, std::uint64_t seed = 1,
               std::size_t link = 0)
      : model(c, std::move(t), seed, link, Direction::Forward) {}

  Verdict offer(Nanos at, std::uint32_t size = 1500) {
    Verdict v = model.offer(at, size, next_handle);
    sizes[next_handle++] = size;
    return v;
  }
  void pollAll(Nanos until = std::chrono::hours(1)) { model.poll(until, released, lost); }

  EmulatedLink model;
  std::uint64_t next_handle = 0;
  std::map<std::uint64_t, std::uint32_t> sizes;
  std::vector<Release> released;
  std::vector<std::uint64_t> lost;
};

// Bytes released per whole second of due time, [s, s+1).
std::map<std::int64_t, std::uint64_t> bytesPerSecond(const Sim& sim) {
  std::map<std::int64_t, std::uint64_t> out;
  for (const Release& r : sim.released) {
    out[std::chrono::duration_cast<seconds>(r.due).count()] += sim.sizes.at(r.handle);
  }
  return out;
}

TEST(EmulatedLink, ConstantRateReleasesExactlyTheSetRateOverTenSimulatedSeconds) {
  for (std::uint64_t mbit : {2, 10, 50}) {
    Sim sim(dir("rate=" + std::to_string(mbit) + "mbit,queue=100mb"));
    // Offer 1.5x the rate of 1316-byte packets for 10 s.
    Nanos gap(static_cast<std::int64_t>(1316 * 8e9 / (1.5 * mbit * 1e6)));
    for (Nanos t{0}; t < seconds(10); t += gap)
      sim.offer(t, 1316);
    sim.pollAll(seconds(10));
    std::uint64_t bytes = 0;
    for (const Release& r : sim.released)
      bytes += sim.sizes.at(r.handle);
    double expected = mbit * 1e6 * 10 / 8;
    EXPECT_NEAR(static_cast<double>(bytes), expected, 1316) << mbit << " Mbit/s";
  }
}

TEST(EmulatedLink, ConstantRateSpacesPacketsBySerializationTime) {
  Sim sim(dir("rate=10mbit"));
  for (int i = 0; i < 3; ++i)
    sim.offer(Nanos{0}, 1250);  // 1 ms each at 10 Mbit/s
  sim.pollAll();
  ASSERT_EQ(sim.released.size(), 3u);
  EXPECT_EQ(sim.released[0].due, milliseconds(1));
  EXPECT_EQ(sim.released[1].due, milliseconds(2));
  EXPECT_EQ(sim.released[2].due, milliseconds(3));
}

TEST(EmulatedLink, ScheduleDoesNotDependOnWhenItIsPolled) {
  auto run = [](bool poll_often) {
    Sim sim(dir("rate=3mbit,delay=7ms,jitter=3ms,loss=5%,queue=50ms"),
            timeline({"at=200ms,link=0,down=100ms", "at=400ms,link=0,rate=1mbit"}), 9);
    Nanos t{0};
    for (int i = 0; i < 2000; ++i) {
      t += Us(137 + (i * 7919) % 900);
      sim.offer(t, 200 + static_cast<std::uint32_t>((i * 31) % 1200));
      if (poll_often && i % 3 == 0)
        sim.model.poll(t, sim.released, sim.lost);
    }
    sim.pollAll();
    return std::make_pair(sim.released, sim.lost);
  };
  auto [rel_a, lost_a] = run(false);
  auto [rel_b, lost_b] = run(true);
  ASSERT_EQ(rel_a.size(), rel_b.size());
  for (std::size_t i = 0; i < rel_a.size(); ++i) {
    EXPECT_EQ(rel_a[i].handle, rel_b[i].handle);
    EXPECT_EQ(rel_a[i].due, rel_b[i].due);
  }
  EXPECT_EQ(lost_a, lost_b);
}

TEST(EmulatedLink, UnlimitedRateReleasesAfterTheDelay) {
  Sim sim(dir("delay=20ms"));
  sim.offer(milliseconds(5));
  EXPECT_EQ(sim.model.nextWakeup(), milliseconds(25));  // departs at once, due 20 ms later
  sim.offer(milliseconds(6));
  sim.pollAll();
  ASSERT_EQ(sim.released.size(), 2u);
  EXPECT_EQ(sim.released[0].due, milliseconds(25));
  EXPECT_EQ(sim.released[1].due, milliseconds(26));
}

TEST(EmulatedLink, JitterIsUniformWithinDelayPlusMinusJitter) {
  Sim sim(dir("delay=20ms,jitter=5ms,reorder=1"), {}, 3);
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    sim.offer(milliseconds(100) * i);
  sim.pollAll(std::chrono::hours(10));
  ASSERT_EQ(sim.released.size(), static_cast<std::size_t>(n));
  std::vector<double> d_ms;
  for (const Release& r : sim.released) {
    d_ms.push_back(static_cast<double>((r.due - milliseconds(100) * r.handle).count()) / 1e6);
  }
  std::sort(d_ms.begin(), d_ms.end());
  double mean = 0, var = 0;
  for (double d : d_ms)
    mean += d / n;
  for (double d : d_ms)
    var += (d - mean) * (d - mean) / (n - 1);
  EXPECT_GE(d_ms.front(), 15.0);
  EXPECT_LE(d_ms.back(), 25.0);
  EXPECT_LT(d_ms.front(), 15.05);  // the whole range is used
  EXPECT_GT(d_ms.back(), 24.95);
  EXPECT_NEAR(d_ms[n / 2], 20.0, 0.2);
  EXPECT_NEAR(std::sqrt(var), 5.0 / std::sqrt(3.0), 0.05);  // uniform: width / sqrt(12)
}

TEST(EmulatedLink, JitterWithoutReorderNeverLetsAPacketOvertake) {
  Sim sim(dir("delay=20ms,jitter=5ms"), {}, 4);
  for (int i = 0; i < 5000; ++i)
    sim.offer(milliseconds(1) * i);
  sim.pollAll();
  ASSERT_EQ(sim.released.size(), 5000u);
  for (std::size_t i = 1; i < sim.released.size(); ++i) {
    ASSERT_EQ(sim.released[i].handle, i);
    ASSERT_GE(sim.released[i].due, sim.released[i - 1].due);
  }
}

TEST(EmulatedLink, ReorderLetsPacketsOvertake) {
  Sim sim(dir("delay=20ms,jitter=5ms,reorder=1"), {}, 4);
  for (int i = 0; i < 1000; ++i)
    sim.offer(milliseconds(1) * i);
  sim.pollAll();
  int overtaken = 0;
  for (std::size_t i = 1; i < sim.released.size(); ++i) {
    overtaken += sim.released[i].handle < sim.released[i - 1].handle;
  }
  EXPECT_GT(overtaken, 100);
}

TEST(EmulatedLink, QueueByteLimitDropsTheTail) {
  Sim sim(dir("rate=1mbit,queue=15kb"));
  int accepted = 0;
  for (int i = 0; i < 20; ++i)
    accepted += sim.offer(Nanos{0}) == Verdict::Accepted;
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(sim.model.stats().drop_queue, 10u);
  EXPECT_EQ(sim.model.stats().queued_bytes, 15000u);
}

TEST(EmulatedLink, QueueTimeLimitDropsPacketsThatWouldWaitLonger) {
  Sim sim(dir("rate=12mbit,queue=10ms"));  // 1 ms per 1500-byte packet
  int accepted = 0;
  for (int i = 0; i < 20; ++i)
    accepted += sim.offer(Nanos{0}) == Verdict::Accepted;
  EXPECT_EQ(accepted, 10);
  // Once the head has left, there is room for one more.
  EXPECT_EQ(sim.offer(Us(1001)), Verdict::Accepted);
  EXPECT_EQ(sim.offer(Us(1001)), Verdict::DropQueue);
}

TEST(EmulatedLink, DefaultQueueIsOneSecondOfTheRate) {
  Sim sim(dir("rate=1.2mbit"));  // 10 ms per packet: 100 packets in a second
  int accepted = 0;
  for (int i = 0; i < 150; ++i)
    accepted += sim.offer(Nanos{0}) == Verdict::Accepted;
  EXPECT_EQ(accepted, 100);
}

class TraceReplay : public ::testing::Test {
 protected:
  static std::string tracePath(const char* name) {
    return std::string(BONDCAST_SHARED_DIR) + "/traces/mahimahi/" + name;
  }
};

// Saturates the link with `size`-byte packets for the trace's whole period and a
// bit more, and compares the bytes released in every second with the trace's.
void expectEverySecondMatchesTrace(const std::string& path, std::uint32_t size) {
  auto trace = CapacityTrace::loadMahimahi(path);
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  Sim sim(dir("rate=trace:" + path + ",queue=500kb"));
  const auto period_s = static_cast<std::int64_t>(trace->periodMs() / 1000);
  const auto end = seconds(period_s + 5);
  // 60 Mbit/s offered: above the trace's peak, so the queue never runs dry.
  const Nanos gap(static_cast<std::int64_t>(size * 8e9 / 60e6));
  for (Nanos t{0}; t < end; t += gap) {
    sim.offer(t, size);
    if ((t / gap) % 256 == 0)
      sim.model.poll(t, sim.released, sim.lost);
  }
  sim.pollAll(end);
  auto got = bytesPerSecond(sim);
  // What the trace delivers in each second, from its opportunity times: the one at
  // loop L, value v ms happens at L * period + v ms. (CapacityTrace::bytesBetween
  // counts an opportunity at exactly a multiple of the period one millisecond early.)
  std::map<std::int64_t, std::uint64_t> trace_bytes;
  for (std::uint64_t loop = 0; loop * trace->periodMs() < std::uint64_t(period_s + 5) * 1000;
       ++loop) {
    for (std::uint32_t v : trace->opportunitiesMs()) {
      trace_bytes[static_cast<std::int64_t>((loop * trace->periodMs() + v) / 1000)] +=
          CapacityTrace::kOpportunityBytes;
    }
  }
  double worst = 0;
  std::uint64_t total_got = 0, total_want = 0;
  for (std::int64_t s = 1; s < period_s + 5; ++s) {
    std::uint64_t want = trace_bytes[s];
    std::uint64_t have = got[s];
    total_got += have;
    total_want += want;
    double tolerance = std::max(0.03 * static_cast<double>(want), 2.0 * size);
    EXPECT_NEAR(static_cast<double>(have), static_cast<double>(want), tolerance) << "second " << s;
    if (want > 0)
      worst = std::max(worst, std::abs(double(have) - double(want)) / double(want));
  }
  EXPECT_NEAR(static_cast<double>(total_got), static_cast<double>(total_want),
              0.001 * static_cast<double>(total_want));
  std::printf("trace %s, %u-byte packets: worst second off by %.3f%%, total %.4f%%\n", path.c_str(),
              size, worst * 100,
              100.0 * (double(total_got) - double(total_want)) / double(total_want));
}

TEST_F(TraceReplay, MahimahiFullPeriodDeliversTheTraceBytesEverySecond) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  expectEverySecondMatchesTrace(tracePath("TMobile-LTE-short.up"), 1500);
}

TEST_F(TraceReplay, MahimahiFullPeriodWithSrtSizedPacketsSharesOpportunities) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  expectEverySecondMatchesTrace(tracePath("Verizon-LTE-short.up"), 1316);
}

TEST(EmulatedLink, TraceOpportunitiesThatFindTheQueueEmptyAreLost) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  auto path = std::string(BONDCAST_SHARED_DIR) + "/traces/mahimahi/TMobile-LTE-short.up";
  auto trace = CapacityTrace::loadMahimahi(path);
  ASSERT_TRUE(trace.ok());
  Sim sim(dir("rate=trace:" + path));
  // Idle until 30 s, then a burst: it starts at the next opportunities, nothing saved.
  const Nanos at = seconds(30) + Us(500);
  for (int i = 0; i < 5; ++i)
    sim.offer(at);
  sim.pollAll();
  ASSERT_EQ(sim.released.size(), 5u);
  std::uint64_t t_ms = trace->nextOpportunityAtOrAfter(30001);
  EXPECT_EQ(sim.released[0].due, milliseconds(t_ms));
  for (const Release& r : sim.released)
    EXPECT_GT(r.due, at);
}

TEST(EmulatedLink, SmallPacketsShareOneTraceOpportunity) {
  // A constant 12 Mbit/s trace (one opportunity each ms) from a rate series file.
  auto dirpath =
      std::filesystem::temp_directory_path() / ("bondcast_lm_" + std::to_string(getpid()));
  std::filesystem::create_directories(dirpath);
  auto file = (dirpath / "one.mahi").string();
  std::ofstream(file) << "1\n";
  Sim sim(dir("rate=trace:" + file));
  for (int i = 0; i < 3; ++i)
    sim.offer(Us(500), 500);
  sim.offer(Us(500), 1000);  // 500 bytes at 1 ms, the rest at 2 ms
  sim.pollAll();
  ASSERT_EQ(sim.released.size(), 4u);
  EXPECT_EQ(sim.released[0].due, milliseconds(1));
  EXPECT_EQ(sim.released[2].due, milliseconds(1));
  EXPECT_EQ(sim.released[3].due, milliseconds(2));
  std::filesystem::remove_all(dirpath);
}

TEST(EmulatedLink, OutageDropsEverythingInsideItsWindowAndNothingOutside) {
  Sim sim(dir("rate=20mbit,delay=10ms"), timeline({"at=5s,link=0,down=5s"}));
  for (int i = 0; i < 15000; ++i)
    sim.offer(milliseconds(1) * i, 1000);
  sim.pollAll();
  std::vector<bool> delivered(15000, false);
  for (const Release& r : sim.released)
    delivered[r.handle] = true;
  for (int i = 0; i < 15000; ++i) {
    bool inside = i >= 5000 && i < 10000;
    ASSERT_EQ(delivered[static_cast<std::size_t>(i)], !inside) << "packet at " << i << " ms";
  }
  EXPECT_EQ(sim.model.stats().drop_outage, 5000u);
}

TEST(EmulatedLink, FlapRepeatsDownAndUp) {
  Sim sim(dir(""), timeline({"at=1s,link=0,flap=3x200ms/300ms"}));
  for (int i = 0; i < 3000; ++i)
    sim.offer(milliseconds(1) * i);
  sim.pollAll();
  std::vector<bool> delivered(3000, false);
  for (const Release& r : sim.released)
    delivered[r.handle] = true;
  for (int i = 0; i < 3000; ++i) {
    bool down = (i >= 1000 && i < 1200) || (i >= 1500 && i < 1700) || (i >= 2000 && i < 2200);
    ASSERT_EQ(delivered[static_cast<std::size_t>(i)], !down) << i << " ms";
  }
}

TEST(EmulatedLink, DownWithoutDurationLastsUntilUp) {
  Sim sim(dir(""), timeline({"at=1s,link=0,down", "at=3s,link=0,up"}));
  EXPECT_EQ(sim.offer(milliseconds(999)), Verdict::Accepted);
  EXPECT_EQ(sim.offer(milliseconds(1000)), Verdict::DropOutage);
  EXPECT_EQ(sim.offer(milliseconds(2999)), Verdict::DropOutage);
  EXPECT_EQ(sim.offer(milliseconds(3000)), Verdict::Accepted);
}

TEST(EmulatedLink, RateAndDelayChangeAtTheirEventTime) {
  Sim sim(dir("rate=12mbit,delay=10ms"),
          timeline({"at=1s,link=0,rate=6mbit", "at=2s,link=0,delay=50ms"}));
  sim.offer(milliseconds(500));   // 1 ms at 12 Mbit/s
  sim.offer(milliseconds(1500));  // 2 ms at 6 Mbit/s
  sim.offer(milliseconds(2500));
  sim.pollAll();
  ASSERT_EQ(sim.released.size(), 3u);
  EXPECT_EQ(sim.released[0].due, milliseconds(511));
  EXPECT_EQ(sim.released[1].due, milliseconds(1512));
  EXPECT_EQ(sim.released[2].due, milliseconds(2552));
}

std::vector<std::uint64_t> lostHandles(std::uint64_t seed, std::size_t link) {
  Sim sim(dir("loss=10%"), {}, seed, link);
  for (int i = 0; i < 10000; ++i)
    sim.offer(Us(100) * i, 100);
  sim.pollAll();
  return sim.lost;
}

TEST(EmulatedLink, SameSeedGivesTheSameDrops) {
  EXPECT_EQ(lostHandles(42, 0), lostHandles(42, 0));
  EXPECT_NE(lostHandles(42, 0), lostHandles(43, 0));
  EXPECT_NE(lostHandles(42, 0), lostHandles(42, 1));  // each link its own stream
}

TEST(EmulatedLink, ReverseDirectionDefaultsToSameDelayNoLossNoLimit) {
  auto link = parseLinkSpec("to=127.0.0.1:9,rate=1mbit,delay=30ms,jitter=2ms,loss=50%");
  ASSERT_TRUE(link.ok());
  EmulatedLink rev(link->rev, {}, 1, 0, Direction::Reverse);
  std::vector<Release> out;
  std::vector<std::uint64_t> lost;
  for (std::uint64_t i = 0; i < 100; ++i)
    ASSERT_EQ(rev.offer(Nanos{0}, 1500, i), Verdict::Accepted);
  rev.poll(milliseconds(30), out, lost);
  EXPECT_EQ(out.size(), 100u);
  EXPECT_TRUE(lost.empty());
}

}  // namespace
}  // namespace bondcast::emu
