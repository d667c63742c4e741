// SPDX-License-Identifier: MPL-2.0
// Acceptance 1-3 of the adaptive-mode issue: real `bondcast send --mode adaptive` and
// `bondcast recv` processes, through bondcast's link emulator (in-process, seeded).
//
//   aggregation:  send ──> link 0: 10 mbit, 15 ms, 0.5% loss ──> recv port 0
//                      ──> link 1:  6 mbit, 60 ms            ──> recv port 1
//                 a 12 Mbit/s TS for 30 s, latency 300 ms; broadcast on the same links
//                 in the same test for comparison.
//   failover:     three 8 mbit links (10/20/30 ms); link 0 (the one the scheduler
//                 prefers) cut for good at 2.5 s, link 1 flapping from 3.5 s.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "eval/emulator/emulator.h"
#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

constexpr std::size_t kPayloadBytes = 7 * 188;

struct PacketLogLine {
  std::uint64_t seq = 0;
  std::size_t bytes = 0;
  bool delivered = false;
  std::int64_t send_us = 0;  // the packet's source time (the sender's steady clock)
};

std::vector<PacketLogLine> readPacketLog(const std::filesystem::path& file) {
  std::vector<PacketLogLine> out;
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');)
      cols.push_back(c);
    if (cols.size() != 7)
      continue;
    out.push_back(
        {std::stoull(cols[3]), std::stoul(cols[5]), cols[6] == "delivered", std::stoll(cols[4])});
  }
  return out;
}

// What came out, checked payload by payload against the input: in sequence order,
// each at most once, each the input's payload of that sequence number (the sender
// numbers the input's 1316-byte payloads from 0).
struct OutputCheck {
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::string problem;  // "" when in order, unique and identical to the input
};

OutputCheck checkOutput(const std::vector<std::uint8_t>& input,
                        const std::vector<std::uint8_t>& output,
                        const std::vector<PacketLogLine>& log) {
  OutputCheck c;
  std::size_t offset = 0;
  bool first = true;
  std::uint64_t last = 0;
  for (const auto& l : log) {
    if (!l.delivered) {
      ++c.lost;
      continue;
    }
    if (!first && l.seq <= last) {
      c.problem = "seq " + std::to_string(l.seq) + " after " + std::to_string(last);
      return c;
    }
    first = false;
    last = l.seq;
    const std::size_t at = l.seq * kPayloadBytes;
    if (at + l.bytes > input.size() || offset + l.bytes > output.size() ||
        !std::equal(output.begin() + offset, output.begin() + offset + l.bytes,
                    input.begin() + at)) {
      c.problem = "payload " + std::to_string(l.seq) + " differs from the input's";
      return c;
    }
    offset += l.bytes;
    ++c.delivered;
  }
  if (offset != output.size())
    c.problem = "output has " + std::to_string(output.size() - offset) + " bytes the log lacks";
  return c;
}

class Adaptive : public BondcastTest {
 protected:
  // Runs one sender in `mode` over emulated links in front of a receiver, waits for the
  // sender to finish and the output to stop growing, then ends the receiver. Files go
  // to NAME-*.
  void run(const std::string& name, const std::string& mode, const std::filesystem::path& input,
           const std::vector<std::string>& links, const std::vector<std::string>& events,
           int latency_ms) {
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < links.size(); ++i)
      ports.push_back(freeUdpPort());
    const std::string latency = latencyMs(latency_ms);
    Process receiver = startReceiver(
        ports, path(name + ".ts"),
        {"--latency", latency, "--packet-log", path(name + "-packets.csv")}, name + "-recv");
    net::NetworkConfig config;
    config.seed = 11;
    for (std::size_t i = 0; i < links.size(); ++i) {
      auto link = net::parseLinkSpec("to=127.0.0.1:" + std::to_string(ports[i]) + "," + links[i]);
      ASSERT_TRUE(link) << link.error().message;
      config.links.push_back(*link);
    }
    for (const auto& e : events) {
      auto event = net::parseEvent(e);
      ASSERT_TRUE(event) << event.error().message;
      config.events.push_back(*event);
    }
    emulator_ = std::make_unique<emu::Emulator>(config);
    auto started = emulator_->start();
    ASSERT_TRUE(started) << started.error().message;
    std::vector<std::string> args = {"--mode",    mode,    "--input", input.string(),
                                     "--latency", latency, "--stats", path(name + "-send.jsonl")};
    for (std::size_t i = 0; i < links.size(); ++i) {
      args.push_back("--link");
      args.push_back(srtLink(emulator_->listenPort(i)));
    }
    Process sender = startSender(args, name + "-send");
    auto code = sender.waitExit(90s);
    ASSERT_EQ(code, 0) << sender.stderrText();
    // The merge may still wait for a straggler (at most one latency): wait until the
    // output has not grown for a second.
    auto size = fileSize(path(name + ".ts"));
    auto still_since = Clock::now();
    waitUntil(
        [&] {
          auto now_size = fileSize(path(name + ".ts"));
          if (now_size != size) {
            size = now_size;
            still_since = Clock::now();
          }
          return Clock::now() - still_since > 1s;
        },
        15s, 50ms);
    receiver.signal(SIGTERM);
    EXPECT_EQ(receiver.waitExit(15s), 0) << receiver.stderrText();
    emulator_->stop();
  }

  // Bytes the sender put on the wire (UDP payloads into the emulator: SRT packets with
  // their headers, retransmissions, bondcast headers and extra copies).
  std::uint64_t wireBytes() const {
    std::uint64_t total = 0;
    for (const auto& link : emulator_->stats().links)
      total += link.fwd.bytes_in;
    return total;
  }

  std::unique_ptr<emu::Emulator> emulator_;
};

const std::vector<std::string> kAggregationLinks = {"rate=10mbit,delay=15ms,loss=0.5%",
                                                    "rate=6mbit,delay=60ms"};

TEST_F(Adaptive, CarriesTwelveMbitOverTenAndSixMbitLinksWhereBroadcastCannot) {
  const auto& input_path = aggregationTs();
  const auto input = readBytes(input_path);

  run("adaptive", "adaptive", input_path, kAggregationLinks, {}, 300);
  if (HasFatalFailure())
    return;
  const double wire = static_cast<double>(wireBytes());
  const auto output = readBytes(path("adaptive.ts"));
  const OutputCheck a = checkOutput(input, output, readPacketLog(path("adaptive-packets.csv")));
  const double payloads = std::ceil(static_cast<double>(input.size()) / kPayloadBytes);
  const double delivered = static_cast<double>(output.size()) / static_cast<double>(input.size());
  const double overhead = wire / static_cast<double>(input.size()) - 1;
  std::cout << "adaptive: " << a.delivered << " of " << payloads << " payloads delivered ("
            << 100 * delivered << "% of the bytes), " << a.lost << " given up, wire overhead "
            << 100 * overhead << "%\n";
  EXPECT_EQ(a.problem, "");
  // 12 Mbit/s over 75% of the links' nominal sum, one with 0.5% loss: on this 2-core
  // machine, with sender, emulator and receiver side by side, 0 to 57 of the 34,187
  // payloads came too late in 18 runs (99.83% to 100%): a 99.9% bound failed 6 of them.
  // Broadcast, below, delivers under 90%.
  EXPECT_GE(delivered, 0.995);
  // The wire overhead: extra copies (the 4% budget), SRT's retransmissions and headers
  // (about 9.85% in all), and since receipts (common/wire.h), SRT's acknowledgement of each
  // (44 bytes, about 120 a second here: 0.35% of this stream). Measured 10.01-10.41%.
  EXPECT_LE(overhead, 0.11);
  const auto recv = finalLine(path("adaptive-recv.jsonl"));
  ASSERT_TRUE(recv.is_object());
  ASSERT_EQ(recv["streams"].size(), 1u);
  EXPECT_EQ(recv["streams"][0]["mode"], "adaptive");
  EXPECT_EQ(recv["streams"][0]["payloads"], a.delivered);
  std::cout << "receiver: " << recv["streams"][0].dump() << "\n";
  // Acceptance 3: the output decodes cleanly (when nothing was lost; a lost payload
  // is reported above).
  if (a.lost == 0 && delivered == 1.0) {
    EXPECT_EQ(decodeProblems(path("adaptive.ts")), "");
  }

  run("broadcast", "broadcast", input_path, kAggregationLinks, {}, 300);
  if (HasFatalFailure())
    return;
  const double broadcast_delivered =
      static_cast<double>(fileSize(path("broadcast.ts"))) / static_cast<double>(input.size());
  std::cout << "broadcast: " << 100 * broadcast_delivered << "% of the bytes delivered\n";
  // Neither link alone carries 12 Mbit/s: broadcast loses at least a tenth.
  EXPECT_LT(broadcast_delivered, 0.9);
  EXPECT_GT(delivered - broadcast_delivered, 0.09);
}

TEST_F(Adaptive, OutputIsByteIdenticalWhenOneLinkDiesForGoodAndAnotherFlaps) {
  const auto& input_path = sampleTs();
  run("failover", "adaptive", input_path,
      {"rate=8mbit,delay=10ms", "rate=8mbit,delay=20ms", "rate=8mbit,delay=30ms"},
      {"at=2500ms,link=0,down", "at=3500ms,link=1,flap=5x200ms/300ms"}, 300);
  if (HasFatalFailure())
    return;
  const auto stats = emulator_->stats();
  EXPECT_GT(stats.links[0].fwd.packets_forwarded, 100u) << "link 0 carried little before the cut";
  EXPECT_GT(stats.links[0].fwd.drop_outage, 0u) << "the sender was done before the cut";
  EXPECT_GT(stats.links[1].fwd.drop_outage, 0u) << "link 1 carried nothing while it flapped";

  const auto input = readBytes(input_path);
  const auto output = readBytes(path("failover.ts"));
  EXPECT_TRUE(input == output) << describeDifference(input, output);
  EXPECT_EQ(decodeProblems(path("failover.ts")), "");
  const auto send = finalLine(path("failover-send.jsonl"));
  ASSERT_TRUE(send.is_object());
  std::cout << "sender: resent " << send["resent"] << ", scheduler " << send["scheduler"].dump()
            << "\n";
  EXPECT_GE(send["scheduler"]["link_failures"].get<int>(), 1);
  EXPECT_NE(send["links"][0]["state"], "up");
  // The receiver's receipts (common/wire.h) came back every 10 ms on the fastest link
  // alive, every 50 ms on each, and the scheduler took them: the link never cut carried
  // them the whole run.
  std::cout << "sender links: " << send["links"].dump() << "\n";
  EXPECT_GT(send["scheduler"]["receipts"].get<int>(), 100);
  ASSERT_EQ(send["links"].size(), 3u);
  EXPECT_GT(send["links"][2]["receipts"].get<int>(), 20);
  EXPECT_EQ(send["links"][2]["bad_receipts"].get<int>(), 0);
  const auto recv = finalLine(path("failover-recv.jsonl"));
  ASSERT_TRUE(recv.is_object());
  ASSERT_EQ(recv["streams"].size(), 1u);
  int sent = 0;
  for (const auto& link : recv["streams"][0]["links"]) {
    if (link["index"] == 2)
      sent = link["receipts"].get<int>();
  }
  EXPECT_GE(sent, send["links"][2]["receipts"].get<int>()) << "the sender took more than was sent";
}

// Every datagram a UDP socket of the test's receives, with the time it came (the steady
// clock, which the sender's source times use too: one machine).
class UdpCapture {
 public:
  UdpCapture() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int buffer = 8 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    timeval tv{0, 100'000};  // the reader checks for stop() this often
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    reader_ = std::thread([this] {
      std::vector<std::uint8_t> buf(2048);
      while (!stop_) {
        const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n <= 0)
          continue;
        const auto at = std::chrono::steady_clock::now();
        std::lock_guard lock(mu_);
        got_.push_back({at, std::vector<std::uint8_t>(buf.begin(), buf.begin() + n)});
      }
    });
  }
  ~UdpCapture() {
    stop_ = true;
    reader_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::size_t count() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  struct Datagram {
    std::chrono::steady_clock::time_point at;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Datagram> take() {
    std::lock_guard lock(mu_);
    return std::move(got_);
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Datagram> got_;
  std::thread reader_;
};

// Times when this machine did not run a thread that was due to run: on each CPU a thread
// that sleeps 1 ms at a time notes each wake-up 2 ms or more late, as the span from when it
// was due to when it woke (a CPU that runs at all wakes it well within that). On a virtual
// machine one CPU, or the whole guest, can stop for 10-60 ms: seen on this project's
// machine, idle, where every payload this test's receiver wrote more than 10 ms late lay in
// a stall of 10-37 ms of one CPU that matched its lateness. A payload written or received
// in such a span is late for the machine, not for the receiver.
class StallWitness {
 public:
  struct Span {
    std::int64_t from_us = 0, to_us = 0;  // steady clock
    int cpu = -1;
  };
  StallWitness() {
    const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int cpu = 0; cpu < cpus; ++cpu) {
      threads_.emplace_back([this, cpu, cpus] {
        if (cpus > 1) {
          cpu_set_t set;
          CPU_ZERO(&set);
          CPU_SET(cpu, &set);
          ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);  // unpinned if refused
        }
        while (!stop_) {
          const auto due = std::chrono::steady_clock::now() + 1ms;
          std::this_thread::sleep_until(due);
          const auto woke = std::chrono::steady_clock::now();
          if (woke - due >= 2ms) {
            std::lock_guard lock(mu_);
            spans_.push_back({micros(due), micros(woke), cpu});
          }
        }
      });
    }
  }
  ~StallWitness() {
    stop_ = true;
    for (auto& t : threads_)
      t.join();
  }
  std::vector<Span> take() {
    std::lock_guard lock(mu_);
    return std::move(spans_);
  }
  // The union of `spans` (any CPU's), in time order.
  static std::vector<Span> merged(std::vector<Span> spans) {
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.from_us < b.from_us; });
    std::vector<Span> out;
    for (const Span& sp : spans) {
      if (!out.empty() && sp.from_us <= out.back().to_us)
        out.back().to_us = std::max(out.back().to_us, sp.to_us);
      else
        out.push_back({sp.from_us, sp.to_us, -1});
    }
    return out;
  }
  static std::int64_t micros(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Span> spans_;
  std::vector<std::thread> threads_;
};

// Issue 13: the receiver plays every packet out at its source time + one offset. The
// fastest of two links gets +150 ms for 1 s every 3 s; the output's delay, measured here
// from the output datagrams' arrival and the packets' source times, stays within 20 ms
// of constant, and nothing comes out twice or out of order.
//
//   send --> link 0: 20 Mbit/s, 20 ms (+150 ms at 2-3, 5-6, 8-9, 11-12 s) --> recv --> UDP
//        --> link 1: 20 Mbit/s, 40 ms                                       -->     (this test)
TEST_F(Adaptive, OutputDelayStaysConstantWhileTheFastestLinksDelaySpikes) {
  const auto& input_path = steadyTs();
  const auto input = readBytes(input_path);
  UdpCapture capture;
  StallWitness witness;
  const std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
  Process receiver = startReceiver(
      ports, "udp://127.0.0.1:" + std::to_string(capture.port()),
      {"--latency", latencyMs(300), "--packet-log", path("spikes-packets.csv")}, "spikes-recv");
  net::NetworkConfig config;
  config.seed = 13;
  const std::vector<std::string> links = {"rate=20mbit,delay=20ms", "rate=20mbit,delay=40ms"};
  for (std::size_t i = 0; i < links.size(); ++i) {
    auto link = net::parseLinkSpec("to=127.0.0.1:" + std::to_string(ports[i]) + "," + links[i]);
    ASSERT_TRUE(link) << link.error().message;
    config.links.push_back(*link);
  }
  for (int at_s = 2; at_s <= 11; at_s += 3) {
    for (const std::string& e : {"at=" + std::to_string(at_s) + "s,link=0,delay=170ms",
                                 "at=" + std::to_string(at_s + 1) + "s,link=0,delay=20ms"}) {
      auto event = net::parseEvent(e);
      ASSERT_TRUE(event) << event.error().message;
      config.events.push_back(*event);
    }
  }
  emulator_ = std::make_unique<emu::Emulator>(config);
  ASSERT_TRUE(emulator_->start());
  Process sender = startSender(
      {"--mode", "adaptive", "--input", input_path.string(), "--latency", latencyMs(300), "--link",
       srtLink(emulator_->listenPort(0)), "--link", srtLink(emulator_->listenPort(1))},
      "spikes-send");
  ASSERT_EQ(sender.waitExit(60s), 0) << sender.stderrText();
  // The output has gone quiet for a second: the receiver has played out what it had.
  std::size_t seen = capture.count();
  auto quiet_since = Clock::now();
  waitUntil(
      [&] {
        if (const std::size_t n = capture.count(); n != seen) {
          seen = n;
          quiet_since = Clock::now();
        }
        return Clock::now() - quiet_since > 1s;
      },
      15s, 50ms);
  receiver.signal(SIGTERM);
  EXPECT_EQ(receiver.waitExit(15s), 0) << receiver.stderrText();
  emulator_->stop();

  const auto datagrams = capture.take();
  std::vector<PacketLogLine> delivered;
  for (const auto& l : readPacketLog(path("spikes-packets.csv"))) {
    if (l.delivered)
      delivered.push_back(l);
  }
  ASSERT_EQ(datagrams.size(), delivered.size()) << "the receiver's log and its UDP output differ";
  const double payloads = std::ceil(static_cast<double>(input.size()) / kPayloadBytes);
  EXPECT_GE(static_cast<double>(delivered.size()), 0.99 * payloads);
  std::vector<std::int64_t> delay_us(datagrams.size());
  for (std::size_t k = 0; k < datagrams.size(); ++k) {
    const auto& l = delivered[k];
    ASSERT_TRUE(k == 0 || l.seq > delivered[k - 1].seq)
        << "seq " << l.seq << " after " << delivered[k - 1].seq;
    const std::size_t at = l.seq * kPayloadBytes;
    ASSERT_TRUE(at + datagrams[k].bytes.size() <= input.size() &&
                std::equal(datagrams[k].bytes.begin(), datagrams[k].bytes.end(),
                           input.begin() + static_cast<std::ptrdiff_t>(at)))
        << "datagram " << k << " is not the input's payload " << l.seq;
    delay_us[k] = StallWitness::micros(datagrams[k].at) - l.send_us;
  }
  const std::int64_t lowest = *std::min_element(delay_us.begin(), delay_us.end());
  // How late each datagram came over the lowest delay, less the time this machine stood
  // still between when it was due and when it came.
  const auto stalls = witness.take();
  {  // kept with the logs when the test fails
    std::ofstream out(path("spikes-output.csv"));
    out << "seq,send_us,output_us\n";
    for (std::size_t k = 0; k < datagrams.size(); ++k)
      out << delivered[k].seq << "," << delivered[k].send_us << ","
          << delivered[k].send_us + delay_us[k] << "\n";
    std::ofstream st(path("spikes-stalls.csv"));
    st << "from_us,to_us,cpu\n";
    for (const auto& sp : stalls)
      st << sp.from_us << "," << sp.to_us << "," << sp.cpu << "\n";
  }
  std::int64_t highest = lowest, highest_raw = lowest, longest_stall = 0;
  std::size_t late_by_a_stall = 0;
  for (const auto& sp : stalls)
    longest_stall = std::max(longest_stall, sp.to_us - sp.from_us);
  const auto stood_still = StallWitness::merged(stalls);
  for (std::size_t k = 0; k < datagrams.size(); ++k) {
    const std::int64_t due = delivered[k].send_us + lowest, came = due + delay_us[k] - lowest;
    std::int64_t stood = 0;
    for (const auto& sp : stood_still)
      stood += std::max<std::int64_t>(0, std::min(came, sp.to_us) - std::max(due, sp.from_us));
    highest_raw = std::max(highest_raw, delay_us[k]);
    highest = std::max(highest, delay_us[k] - stood);
    if (stood > 0 && delay_us[k] - lowest > 20'000 * kDeadlineScale)
      ++late_by_a_stall;
  }
  std::cout << "output delay " << lowest / 1000.0 << " to " << highest_raw / 1000.0 << " ms over "
            << datagrams.size() << " payloads; " << highest / 1000.0
            << " ms less the machine's stalls (" << stalls.size() << " wake-ups 2 ms or more late"
            << ", the longest " << longest_stall / 1000.0 << " ms; " << late_by_a_stall
            << " payloads more than 20 ms late through one)\n";
  EXPECT_LE(highest - lowest, 20'000 * kDeadlineScale)
      << "the output's delay moved by more than " << 20 * kDeadlineScale
      << " ms while this machine ran";
  // A machine that stood still this often is no test of the receiver.
  EXPECT_LE(late_by_a_stall, datagrams.size() / 100) << "too many payloads late through stalls";
  // 300 ms behind the fastest link's 20 ms, not the slower one's 40 ms or a spike.
  const std::int64_t latency_us = 300'000 * kDeadlineScale;
  EXPECT_GE(lowest, latency_us + 18'000);
  EXPECT_LE(lowest, latency_us + 35'000 * kDeadlineScale);
  std::cout << "receiver: " << finalLine(path("spikes-recv.jsonl")).dump() << "\n";
}

// Two senders (two sessions) into one receiver port: each stream to its own file,
// byte-identical. One sender's second link leaves by a named interface (dev=lo; binding
// to a device needs root, so without root that link is given without it).
TEST_F(Adaptive, TwoSessionsIntoOneReceiverPortEachRebuildTheirOwnStream) {
  const std::uint16_t port = freeUdpPort();
  Process receiver = startReceiver({port}, path("out-{id}.ts"), {"--latency", latencyMs(200)});
  const std::string dev = geteuid() == 0 ? "dev=lo" : "";
  Process a = startSender(
      {"--mode", "adaptive", "--input", sampleTs().string(), "--stream-id", "camA", "--latency",
       latencyMs(200), "--link", srtLink(port), "--link", srtLink(port, dev)},
      "sendA");
  Process b =
      startSender({"--mode", "adaptive", "--input", sampleTs().string(), "--stream-id", "camB",
                   "--latency", latencyMs(200), "--link", srtLink(port), "--link", srtLink(port)},
                  "sendB");
  ASSERT_EQ(a.waitExit(40s), 0) << a.stderrText();
  ASSERT_EQ(b.waitExit(40s), 0) << b.stderrText();
  const auto input = readBytes(sampleTs());
  ASSERT_TRUE(waitUntil([&] { return fileSize(path("out-camB.ts")) >= input.size(); }, 10s));
  stopReceiverAt(receiver, path("out-camA.ts"), input.size());
  EXPECT_TRUE(readBytes(path("out-camA.ts")) == input)
      << describeDifference(input, readBytes(path("out-camA.ts")));
  EXPECT_TRUE(readBytes(path("out-camB.ts")) == input)
      << describeDifference(input, readBytes(path("out-camB.ts")));
  const auto final = finalLine(path("recv.jsonl"));
  ASSERT_TRUE(final.is_object());
  int sessions = 0;
  for (const auto& st : final["streams"])
    sessions += st.value("mode", "") == "adaptive" && st["links"].size() == 2;
  EXPECT_EQ(sessions, 2) << final.dump();
}

}  // namespace
}  // namespace bondcast::e2e
