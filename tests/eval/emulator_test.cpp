// SPDX-License-Identifier: MPL-2.0
// The emulator with real UDP sockets on 127.0.0.1: rate, delay, jitter, loss,
// trace and outage accuracy as a receiver measures them.
#include "eval/emulator/emulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "eval/emulator/link_model.h"
#include "tests/eval/udp_harness.h"
#include "tests/support/shared_dir.h"

namespace bondcast::emu {
namespace {

using namespace std::chrono_literals;
using testing::Arrival;
using testing::Clock;
using testing::UdpEndpoint;

LinkConfig link(const std::string& spec) {
  auto l = parseLinkSpec(spec);
  EXPECT_TRUE(l.ok()) << l.error().message;
  return l.ok() ? *l : LinkConfig{};
}

std::string to(const UdpEndpoint& receiver) {
  return "to=127.0.0.1:" + std::to_string(receiver.port());
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

TEST(Emulator, ConstantRateWithinTwoPercentOverTenSecondsAt2And10And50Mbit) {
  const std::vector<double> rates = {2e6, 10e6, 50e6};
  std::vector<std::unique_ptr<UdpEndpoint>> senders, receivers;
  NetworkConfig config;
  for (double r : rates) {
    senders.push_back(std::make_unique<UdpEndpoint>());
    receivers.push_back(std::make_unique<UdpEndpoint>());
    receivers.back()->startReceiving();
    config.links.push_back(
        link(to(*receivers.back()) + ",rate=" + std::to_string(r) + ",queue=3s"));
  }
  Emulator emu(config);
  ASSERT_TRUE(emu.start().ok());
  // 5% more than the rate for 10.5 s: the queue never empties, never overflows.
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < rates.size(); ++i) {
    threads.emplace_back([&, i] {
      testing::sendPaced(*senders[i], emu.listenPort(i), rates[i] * 1.05, 1316, start, 10500ms);
    });
  }
  for (auto& t : threads)
    t.join();
  emu.stop();
  for (std::size_t i = 0; i < rates.size(); ++i) {
    receivers[i]->stopReceiving();
    auto arrivals = receivers[i]->arrivals();
    ASSERT_GT(arrivals.size(), 100u);
    // Bytes after the first arrival over the 10 s that follow it.
    const auto t0 = arrivals.front().at;
    std::uint64_t bytes = 0;
    Clock::time_point last = t0;
    for (std::size_t k = 1; k < arrivals.size() && arrivals[k].at <= t0 + 10s; ++k) {
      bytes += arrivals[k].size;
      last = arrivals[k].at;
    }
    double measured = bytes * 8.0 / std::chrono::duration<double>(last - t0).count();
    std::printf("rate %.0f Mbit/s: measured %.4f Mbit/s (%+.3f%%) over %.3f s\n", rates[i] / 1e6,
                measured / 1e6, 100 * (measured - rates[i]) / rates[i],
                std::chrono::duration<double>(last - t0).count());
    EXPECT_NEAR(measured, rates[i], 0.02 * rates[i]);
    auto st = emu.stats().links[i].fwd;
    EXPECT_EQ(st.drop_queue, 0u);
    EXPECT_EQ(st.drop_send_error, 0u);
  }
}

struct DelaySample {
  std::vector<double> ms;  // sorted one-way delays
  double at(double q) const { return ms[static_cast<std::size_t>(q * (ms.size() - 1))]; }
  double mean() const {
    double s = 0;
    for (double d : ms)
      s += d;
    return s / ms.size();
  }
  double stddev() const {
    double m = mean(), v = 0;
    for (double d : ms)
      v += (d - m) * (d - m);
    return std::sqrt(v / (ms.size() - 1));
  }
};

DelaySample oneWayDelays(const std::vector<Arrival>& arrivals) {
  DelaySample s;
  for (const Arrival& a : arrivals) {
    s.ms.push_back(ms(a.at - Clock::time_point(Clock::duration(a.probe.sent_ns))));
  }
  std::sort(s.ms.begin(), s.ms.end());
  return s;
}

TEST(Emulator, OneWayDelayMedianWithinOneMillisecondAndJitterSpreadAsSet) {
  UdpEndpoint sender_a, sender_b, receiver_a, receiver_b;
  receiver_a.startReceiving();
  receiver_b.startReceiving();
  NetworkConfig config;
  config.links.push_back(link(to(receiver_a) + ",delay=30ms"));
  config.links.push_back(link(to(receiver_b) + ",delay=20ms,jitter=4ms"));
  Emulator emu(config);
  ASSERT_TRUE(emu.start().ok());
  // One probe every 10 ms on each link: more than 2 x jitter apart, so the no-reorder
  // rule never holds a packet back and the spread is the configured one.
  const std::uint64_t n = 400;
  auto start = Clock::now();
  for (std::uint64_t k = 0; k < n; ++k) {
    std::this_thread::sleep_until(start + k * 10ms);  // pacing the traffic
    sender_a.send(emu.listenPort(0), k, 200);
    sender_b.send(emu.listenPort(1), k, 200);
  }
  ASSERT_TRUE(receiver_a.waitForCount(n, 5s));
  ASSERT_TRUE(receiver_b.waitForCount(n, 5s));
  auto fixed = oneWayDelays(receiver_a.arrivals());
  auto jittered = oneWayDelays(receiver_b.arrivals());
  std::printf(
      "delay=30ms: median %.3f ms, p99 %.3f ms; delay=20ms,jitter=4ms: median %.3f, "
      "min %.3f, p5 %.3f, p95 %.3f, max %.3f, sd %.3f ms (uniform: %.3f)\n",
      fixed.at(0.5), fixed.at(0.99), jittered.at(0.5), jittered.ms.front(), jittered.at(0.05),
      jittered.at(0.95), jittered.ms.back(), jittered.stddev(), 4.0 / std::sqrt(3.0));
  EXPECT_NEAR(fixed.at(0.5), 30.0, 1.0);
  EXPECT_GE(fixed.ms.front(), 30.0);
  EXPECT_NEAR(jittered.at(0.5), 20.0, 1.0);
  EXPECT_GE(jittered.ms.front(), 16.0);
  EXPECT_NEAR(jittered.at(0.05), 16.4, 0.6);  // uniform on [16, 24]
  EXPECT_NEAR(jittered.at(0.95), 23.6, 0.6);
  // The spread of the middle half: uniform on [16, 24] puts it at 4 ms. (Not the standard
  // deviation, which a few probes held up 30-50 ms by a stalled CPU of this machine's VM
  // carried past its bound: 3.19 ms against 2.31 +- 0.3, max 54 ms.)
  EXPECT_NEAR(jittered.at(0.75) - jittered.at(0.25), 4.0, 0.6);
}

// Sends `n` probes through a link with `spec`, in windows it lets drain, and
// returns the sequence numbers that never arrived.
std::set<std::uint64_t> lostThroughEmulator(const std::string& spec, std::uint64_t seed,
                                            std::uint64_t n, DirectionStats* stats_out) {
  UdpEndpoint sender, receiver;
  receiver.startReceiving();
  NetworkConfig config;
  config.seed = seed;
  config.links.push_back(link(to(receiver) + "," + spec));
  Emulator emu(config);
  EXPECT_TRUE(emu.start().ok());
  auto handled = [&] { return receiver.count() + emu.stats().links[0].fwd.drop_loss; };
  for (std::uint64_t k = 0; k < n; ++k) {
    sender.send(emu.listenPort(0), k, 300);
    if (k % 100 == 99) {
      EXPECT_TRUE(testing::waitUntil([&] { return handled() == k + 1; }, 5s));
    }
  }
  EXPECT_TRUE(testing::waitUntil([&] { return handled() == n; }, 5s));
  emu.stop();
  receiver.stopReceiving();
  std::set<std::uint64_t> lost;
  for (std::uint64_t k = 0; k < n; ++k)
    lost.insert(k);
  for (const Arrival& a : receiver.arrivals())
    lost.erase(a.probe.seq);
  if (stats_out)
    *stats_out = emu.stats().links[0].fwd;
  return lost;
}

TEST(Emulator, BernoulliLossRateWithinBoundsAndEqualToTheModelsDecisions) {
  const std::uint64_t n = 4000;
  DirectionStats st;
  auto lost = lostThroughEmulator("loss=10%", 7, n, &st);
  const double sigma = std::sqrt(0.1 * 0.9 / n);
  const double rate = static_cast<double>(lost.size()) / n;
  std::printf("loss=10%%: %zu of %llu lost (%.2f%%, 5 sigma = %.2f%%)\n", lost.size(),
              static_cast<unsigned long long>(n), 100 * rate, 500 * sigma);
  EXPECT_NEAR(rate, 0.1, 5 * sigma);
  EXPECT_EQ(st.drop_loss, lost.size());
  EXPECT_EQ(st.packets_forwarded, n - lost.size());
  // The shell adds nothing: the pure model with the same seed drops the same packets.
  EmulatedLink model(link("to=127.0.0.1:9,loss=10%").fwd, {}, 7, 0, Direction::Forward);
  std::vector<Release> released;
  std::vector<std::uint64_t> model_lost;
  for (std::uint64_t k = 0; k < n; ++k) {
    ASSERT_EQ(model.offer(Nanos(static_cast<std::int64_t>(k)), 300, k), Verdict::Accepted);
  }
  model.poll(Nanos(static_cast<std::int64_t>(n)), released, model_lost);
  EXPECT_EQ(lost, std::set<std::uint64_t>(model_lost.begin(), model_lost.end()));
}

TEST(Emulator, SameSeedSameDropsDifferentSeedDifferentDrops) {
  auto a = lostThroughEmulator("ge=2%:25%:90%:0.5%", 11, 2000, nullptr);
  auto b = lostThroughEmulator("ge=2%:25%:90%:0.5%", 11, 2000, nullptr);
  auto c = lostThroughEmulator("ge=2%:25%:90%:0.5%", 12, 2000, nullptr);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Emulator, MahimahiTraceReplayDeliversTheTraceBytesEachSecond) {
  BONDCAST_SKIP_WITHOUT_SHARED_TRACES();
  const std::string path =
      std::string(BONDCAST_SHARED_DIR) + "/traces/mahimahi/TMobile-LTE-short.up";
  auto trace = CapacityTrace::loadMahimahi(path);
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  UdpEndpoint sender, receiver;
  receiver.startReceiving();
  NetworkConfig config;
  config.links.push_back(link(to(receiver) + ",rate=trace:" + path + ",queue=450kb"));
  Emulator emu(config);
  ASSERT_TRUE(emu.start().ok());
  // 40 Mbit/s offered, above the trace's first seconds: the queue never runs dry.
  const int seconds = 5;
  testing::sendPaced(sender, emu.listenPort(0), 40e6, 1500, emu.epoch(),
                     std::chrono::seconds(seconds) + 50ms);
  emu.stop();
  receiver.stopReceiving();
  std::map<std::int64_t, std::uint64_t> got, want;
  for (const Arrival& a : receiver.arrivals()) {
    got[std::chrono::duration_cast<std::chrono::seconds>(a.at - emu.epoch()).count()] += a.size;
  }
  for (std::uint32_t v : trace->opportunitiesMs())
    want[v / 1000] += CapacityTrace::kOpportunityBytes;
  for (int s = 1; s < seconds; ++s) {
    std::printf("second %d: trace %llu bytes, delivered %llu (%+.3f%%)\n", s,
                static_cast<unsigned long long>(want[s]), static_cast<unsigned long long>(got[s]),
                100.0 * (double(got[s]) - double(want[s])) / double(want[s]));
    EXPECT_NEAR(double(got[s]), double(want[s]), 0.03 * double(want[s])) << "second " << s;
  }
  EXPECT_EQ(emu.stats().links[0].fwd.drop_send_error, 0u);
}

TEST(Emulator, OutageDropsEverythingInsideItsWindowAndNothingOutside) {
  UdpEndpoint sender, receiver;
  receiver.startReceiving();
  NetworkConfig config;
  config.links.push_back(link(to(receiver) + ",delay=5ms"));
  config.events.push_back(*parseEvent("at=1s,link=0,down=1s"));
  Emulator emu(config);
  ASSERT_TRUE(emu.start().ok());
  const std::uint64_t n = 1500;  // one every 2 ms for 3 s
  for (std::uint64_t k = 0; k < n; ++k) {
    std::this_thread::sleep_until(emu.epoch() + k * 2ms);  // pacing the traffic
    sender.send(emu.listenPort(0), k, 200);
  }
  ASSERT_TRUE(testing::waitUntil(
      [&] { return receiver.count() + emu.stats().links[0].fwd.drop_outage == n; }, 5s));
  emu.stop();
  receiver.stopReceiving();
  std::set<std::uint64_t> delivered;
  std::map<std::uint64_t, double> sent_at_ms;
  for (const Arrival& a : receiver.arrivals())
    delivered.insert(a.probe.seq);
  // Judge each probe by when it was sent (model time); a probe reaches the emulator
  // microseconds later, so only a 20 ms guard band at each edge is not judged.
  int inside = 0, outside = 0;
  for (const Arrival& a : receiver.arrivals()) {
    sent_at_ms[a.probe.seq] = ms(Clock::time_point(Clock::duration(a.probe.sent_ns)) - emu.epoch());
  }
  for (std::uint64_t k = 0; k < n; ++k) {
    double planned = 2.0 * static_cast<double>(k);  // scheduled send time, ms
    bool is_delivered = delivered.count(k) > 0;
    if (planned < 980 || planned >= 2020) {
      ++outside;
      EXPECT_TRUE(is_delivered) << "probe sent at " << planned << " ms, outside the outage";
    } else if (planned >= 1020 && planned < 1980) {
      ++inside;
      EXPECT_FALSE(is_delivered) << "probe sent at " << planned << " ms, inside the outage";
    }
  }
  // Every delivered probe was sent outside [1 s, 2 s) by its own timestamp.
  for (const auto& [seq, t] : sent_at_ms) {
    EXPECT_TRUE(t < 1000.5 || t >= 1999.5) << "probe " << seq << " sent at " << t << " ms";
  }
  EXPECT_GT(inside, 400);
  EXPECT_GT(outside, 900);
  auto st = emu.stats().links[0].fwd;
  EXPECT_NEAR(static_cast<double>(st.drop_outage), 500.0, 12.0);
}

TEST(Emulator, RepliesGoBackToTheSenderThroughTheReverseDirection) {
  UdpEndpoint sender, receiver;
  receiver.startReceiving(/*reply_to_sender=*/true);
  sender.startReceiving();
  NetworkConfig config;
  config.links.push_back(link(to(receiver) + ",delay=15ms,rev-delay=5ms"));
  Emulator emu(config);
  ASSERT_TRUE(emu.start().ok());
  EXPECT_NE(emu.listenPort(0), 0);
  for (std::uint64_t k = 0; k < 20; ++k)
    sender.send(emu.listenPort(0), k, 100);
  ASSERT_TRUE(sender.waitForCount(20, 5s));
  for (const Arrival& a : receiver.arrivals())
    EXPECT_EQ(a.from_port, emu.upstreamPort(0));
  for (const Arrival& a : sender.arrivals()) {
    EXPECT_EQ(a.from_port, emu.listenPort(0));
    double rtt = ms(a.at - Clock::time_point(Clock::duration(a.probe.sent_ns)));
    EXPECT_GE(rtt, 20.0);
    EXPECT_LT(rtt, 40.0);
  }
  auto st = emu.stats();
  EXPECT_EQ(st.links[0].fwd.packets_forwarded, 20u);
  EXPECT_EQ(st.links[0].rev.packets_forwarded, 20u);
  EXPECT_EQ(toJson(st)["links"][0]["rev"]["packets_forwarded"], 20u);
}

// Links that share one listen address, told apart by the sender's source address
// (from=), as an SRTLA sender's links are: 127.0.0.2 is link 0, 127.0.0.3 link 1.
constexpr std::uint32_t kSourceA = 0x7f000002, kSourceB = 0x7f000003, kSourceC = 0x7f000004;

TEST(EmulatorSharedListen, DispatchesEachDatagramToTheLinkOfItsSourceAddress) {
  UdpEndpoint sender_a(kSourceA), sender_b(kSourceB), receiver_0, receiver_1;
  receiver_0.startReceiving();
  receiver_1.startReceiving();
  NetworkConfig config;
  config.links.push_back(link("listen=127.0.0.1:0,from=127.0.0.2," + to(receiver_0)));
  config.links.push_back(link("listen=127.0.0.1:0,from=127.0.0.3,loss=100%," + to(receiver_1)));
  Emulator emu(config);
  ASSERT_TRUE(emu.start().ok());
  ASSERT_NE(emu.listenPort(0), 0);
  ASSERT_EQ(emu.listenPort(0), emu.listenPort(1));  // one socket, one port for the group
  const std::uint64_t n = 50;
  for (std::uint64_t k = 0; k < n; ++k) {
    ASSERT_TRUE(sender_a.send(emu.listenPort(0), k, 200));
    ASSERT_TRUE(sender_b.send(emu.listenPort(0), 1000 + k, 200));
  }
  ASSERT_TRUE(receiver_0.waitForCount(n, 5s));
  ASSERT_TRUE(testing::waitUntil([&] { return emu.stats().links[1].fwd.drop_loss == n; }, 5s))
      << emu.stats().links[1].fwd.drop_loss;
  emu.stop();
  for (const Arrival& a : receiver_0.arrivals())
    EXPECT_LT(a.probe.seq, 1000u) << "a datagram from 127.0.0.3 went through link 0";
  EXPECT_EQ(receiver_0.count(), n);
  EXPECT_EQ(receiver_1.count(), 0u);
  auto st = emu.stats();
  EXPECT_EQ(st.links[0].fwd.packets_in, n);
  EXPECT_EQ(st.links[0].fwd.packets_forwarded, n);
  EXPECT_EQ(st.links[1].fwd.packets_in, n);
  EXPECT_EQ(st.links[1].fwd.packets_forwarded, 0u);
  EXPECT_EQ(st.unmatched_source, 0u);
  EXPECT_EQ(st.links[0].listen, st.links[1].listen);
}

TEST(EmulatorSharedListen, RepliesLeaveTheSharedSocketForTheSenderOfTheirOwnLink) {
  UdpEndpoint sender_a(kSourceA), sender_b(kSourceB), receiver_0, receiver_1;
  receiver_0.startReceiving(/*reply_to_sender=*/true);
  receiver_1.startReceiving(/*reply_to_sender=*/true);
  sender_a.startReceiving();
  sender_b.startReceiving();
  NetworkConfig config;
  config.links.push_back(link("listen=127.0.0.1:0,from=127.0.0.2,delay=2ms," + to(receiver_0)));
  config.links.push_back(link("listen=127.0.0.1:0,from=127.0.0.3,delay=4ms," + to(receiver_1)));
  Emulator emu(config);
  ASSERT_TRUE(emu.start().ok());
  const std::uint16_t port = emu.listenPort(0);
  ASSERT_EQ(port, emu.listenPort(1));
  const std::uint64_t n = 20;
  for (std::uint64_t k = 0; k < n; ++k) {
    ASSERT_TRUE(sender_a.send(port, k, 100));
    ASSERT_TRUE(sender_b.send(port, 1000 + k, 100));
  }
  ASSERT_TRUE(sender_a.waitForCount(n, 5s));
  ASSERT_TRUE(sender_b.waitForCount(n, 5s));
  emu.stop();
  for (const Arrival& a : receiver_0.arrivals()) {
    EXPECT_LT(a.probe.seq, 1000u);
    EXPECT_EQ(a.from_port, emu.upstreamPort(0));
  }
  for (const Arrival& a : receiver_1.arrivals()) {
    EXPECT_GE(a.probe.seq, 1000u);
    EXPECT_EQ(a.from_port, emu.upstreamPort(1));
  }
  for (const Arrival& a : sender_a.arrivals()) {
    EXPECT_LT(a.probe.seq, 1000u) << "link 1's reply reached link 0's sender";
    EXPECT_EQ(a.from_port, port);
  }
  for (const Arrival& a : sender_b.arrivals()) {
    EXPECT_GE(a.probe.seq, 1000u) << "link 0's reply reached link 1's sender";
    EXPECT_EQ(a.from_port, port);
  }
  auto st = emu.stats();
  EXPECT_EQ(st.links[0].rev.packets_forwarded, n);
  EXPECT_EQ(st.links[1].rev.packets_forwarded, n);
}

TEST(EmulatorSharedListen, DatagramFromAnUnknownSourceIsDroppedAndCounted) {
  UdpEndpoint sender_a(kSourceA), stranger(kSourceC), receiver_0, receiver_1;
  receiver_0.startReceiving();
  receiver_1.startReceiving();
  NetworkConfig config;
  config.links.push_back(link("listen=127.0.0.1:0,from=127.0.0.2," + to(receiver_0)));
  config.links.push_back(link("listen=127.0.0.1:0,from=127.0.0.3," + to(receiver_1)));
  Emulator emu(config);
  ASSERT_TRUE(emu.start().ok());
  for (std::uint64_t k = 0; k < 10; ++k)
    ASSERT_TRUE(stranger.send(emu.listenPort(0), k, 100));
  // One socket reads in order: once the later datagram from 127.0.0.2 is through,
  // the stranger's have been handled.
  ASSERT_TRUE(sender_a.send(emu.listenPort(0), 500, 100));
  ASSERT_TRUE(receiver_0.waitForCount(1, 5s));
  ASSERT_TRUE(testing::waitUntil([&] { return emu.stats().unmatched_source == 10; }, 5s))
      << emu.stats().unmatched_source;
  emu.stop();
  auto st = emu.stats();
  EXPECT_EQ(receiver_0.count(), 1u);
  EXPECT_EQ(receiver_0.arrivals().front().probe.seq, 500u);
  EXPECT_EQ(receiver_1.count(), 0u);
  EXPECT_EQ(st.links[0].fwd.packets_in, 1u);
  EXPECT_EQ(st.links[1].fwd.packets_in, 0u);
  EXPECT_EQ(toJson(st)["unmatched_source"], 10u);
}

TEST(EmulatorSharedListen, AFromLinkTakesOnlyItsSourceAndAPlainLinkKeepsTakingAny) {
  UdpEndpoint sender_a(kSourceA), plain_sender, receiver_0, receiver_1;
  receiver_0.startReceiving();
  receiver_1.startReceiving();
  NetworkConfig config;
  config.links.push_back(link("listen=127.0.0.1:0,from=127.0.0.2," + to(receiver_0)));
  config.links.push_back(link("listen=127.0.0.1:0," + to(receiver_1)));
  Emulator emu(config);
  ASSERT_TRUE(emu.start().ok());
  ASSERT_NE(emu.listenPort(0), emu.listenPort(1));            // the plain link has its own socket
  ASSERT_TRUE(plain_sender.send(emu.listenPort(1), 7, 100));  // from 127.0.0.1: any source
  ASSERT_TRUE(receiver_1.waitForCount(1, 5s));
  // The from= link, even alone on its socket, refuses 127.0.0.1 and takes 127.0.0.2.
  ASSERT_TRUE(plain_sender.send(emu.listenPort(0), 8, 100));
  ASSERT_TRUE(sender_a.send(emu.listenPort(0), 9, 100));
  ASSERT_TRUE(receiver_0.waitForCount(1, 5s));
  ASSERT_TRUE(testing::waitUntil([&] { return emu.stats().unmatched_source == 1; }, 5s));
  emu.stop();
  ASSERT_EQ(receiver_0.count(), 1u);
  EXPECT_EQ(receiver_0.arrivals().front().probe.seq, 9u);
  EXPECT_EQ(receiver_1.count(), 1u);
}

TEST(Emulator, StartFailsWithAClearMessageWhenThePortIsTaken) {
  UdpEndpoint busy, receiver;
  NetworkConfig config;
  config.links.push_back(
      link("listen=127.0.0.1:" + std::to_string(busy.port()) + "," + to(receiver)));
  Emulator emu(config);
  auto s = emu.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("link 0: bind 127.0.0.1:" + std::to_string(busy.port())),
            std::string::npos)
      << s.error().message;
}

}  // namespace
}  // namespace bondcast::emu
