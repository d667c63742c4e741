// SPDX-License-Identifier: MPL-2.0
// Benchmark of the link emulator's data path (not a test): N links on 127.0.0.1, a
// sender thread pushing datagrams round-robin into every link, one receiver
// draining them. Prints the aggregate forwarding throughput of the emulator (one
// thread) and the lateness of packet release against the model's schedule.
//
//   build-emu/bin/bench_emulator                          # 4 links, no limit, blast
//   build-emu/bin/bench_emulator --offered 400 --link-opts delay=10ms
//   build-emu/bin/bench_emulator --offered 420 --link-opts rate=100mbit,delay=5ms,queue=50ms
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "eval/emulator/emulator.h"

namespace {

using namespace bondcast::emu;
using Clock = std::chrono::steady_clock;

constexpr int kBatch = 32;

int udpSocket(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int buf = 16 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

double cpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (user + system) of this process's thread named `name`, from /proc.
double threadCpuSeconds(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name)
      continue;
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i)
      fields >> skip;  // fields 3..13
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return 0;
}

// The load generators yield to the emulator: SCHED_BATCH never preempts on wake-up.
void yieldToEmulator() {
  sched_param none{};
  ::sched_setscheduler(0, SCHED_BATCH, &none);  // 0: the calling thread
}

std::uint64_t forwardedBytes(const EmulatorStats& s) {
  std::uint64_t b = 0;
  for (const auto& l : s.links)
    b += l.fwd.bytes_forwarded;
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Link emulator benchmark: forwarding throughput and release lateness"};
  int links = 4;
  double seconds = 5;
  double warmup = 1;
  unsigned size = 1316;
  double offered_mbit = 0;
  std::string link_opts;
  app.add_option("--links", links, "Number of links")->capture_default_str();
  app.add_option("--seconds", seconds, "Measured time")->capture_default_str();
  app.add_option("--warmup", warmup, "Seconds before measuring")->capture_default_str();
  app.add_option("--size", size, "Datagram payload bytes")->capture_default_str();
  app.add_option("--offered", offered_mbit, "Aggregate offered Mbit/s (0: as fast as possible)")
      ->capture_default_str();
  app.add_option("--link-opts", link_opts, "Extra link spec keys for every link, e.g. delay=10ms");
  CLI11_PARSE(app, argc, argv);

  std::uint16_t rx_port = 0;
  int rx = udpSocket(rx_port);
  NetworkConfig config;
  for (int i = 0; i < links; ++i) {
    std::string spec = "to=127.0.0.1:" + std::to_string(rx_port);
    if (!link_opts.empty())
      spec += "," + link_opts;
    auto l = parseLinkSpec(spec);
    if (!l) {
      std::fprintf(stderr, "bench_emulator: %s\n", l.error().message.c_str());
      return 2;
    }
    config.links.push_back(*l);
  }
  Emulator emu(config);
  if (auto s = emu.start(); !s) {
    std::fprintf(stderr, "bench_emulator: %s\n", s.error().message.c_str());
    return 1;
  }

  std::atomic<bool> running{true};
  std::atomic<std::uint64_t> received_bytes{0};
  std::thread receiver([&] {
    yieldToEmulator();
    std::vector<char> buf(static_cast<std::size_t>(kBatch) * 2048);
    std::vector<mmsghdr> msgs(kBatch);
    std::vector<iovec> iovs(kBatch);
    while (running) {
      pollfd pfd{rx, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0)
        continue;
      for (int k = 0; k < kBatch; ++k) {
        iovs[k] = {buf.data() + k * 2048, 2048};
        msgs[k].msg_hdr = {};
        msgs[k].msg_hdr.msg_iov = &iovs[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
      }
      int n = ::recvmmsg(rx, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      for (int k = 0; k < n; ++k)
        received_bytes += msgs[k].msg_len;
    }
  });

  std::vector<int> tx(static_cast<std::size_t>(links));
  std::vector<sockaddr_in> dst(static_cast<std::size_t>(links));
  for (int i = 0; i < links; ++i) {
    std::uint16_t unused = 0;
    tx[i] = udpSocket(unused);
    dst[i].sin_family = AF_INET;
    dst[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    dst[i].sin_port = htons(emu.listenPort(static_cast<std::size_t>(i)));
  }
  std::thread sender([&] {
    yieldToEmulator();
    std::vector<char> payload(size, 'x');
    std::vector<mmsghdr> msgs(kBatch);
    iovec iov{payload.data(), payload.size()};
    const auto start = Clock::now();
    const double bytes_per_ns = offered_mbit * 1e6 / 8 / 1e9;
    std::uint64_t sent_bytes = 0;
    int link = 0;
    while (running) {
      if (offered_mbit > 0) {
        double allowed = bytes_per_ns * static_cast<double>((Clock::now() - start).count());
        if (static_cast<double>(sent_bytes) >= allowed) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));  // pacing
          continue;
        }
      }
      for (int k = 0; k < kBatch; ++k) {
        msgs[k].msg_hdr = {};
        msgs[k].msg_hdr.msg_iov = &iov;
        msgs[k].msg_hdr.msg_iovlen = 1;
        msgs[k].msg_hdr.msg_name = &dst[static_cast<std::size_t>(link)];
        msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      }
      int n = ::sendmmsg(tx[static_cast<std::size_t>(link)], msgs.data(), kBatch, 0);
      if (n > 0)
        sent_bytes += static_cast<std::uint64_t>(n) * size;
      link = (link + 1) % links;
    }
  });

  std::this_thread::sleep_until(emu.epoch() + std::chrono::duration<double>(warmup));
  const auto t0 = Clock::now();
  const EmulatorStats s0 = emu.stats();
  const double cpu0 = cpuSeconds();
  const double emu_cpu0 = threadCpuSeconds("bc-emulator");
  const std::uint64_t rx0 = received_bytes;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto t1 = Clock::now();
  const EmulatorStats s1 = emu.stats();
  const double cpu1 = cpuSeconds();
  const double emu_cpu1 = threadCpuSeconds("bc-emulator");
  const std::uint64_t rx1 = received_bytes;
  running = false;
  sender.join();
  emu.stop();
  receiver.join();

  const double dt = std::chrono::duration<double>(t1 - t0).count();
  const double fwd_mbit =
      static_cast<double>(forwardedBytes(s1) - forwardedBytes(s0)) * 8 / dt / 1e6;
  const double rx_mbit = static_cast<double>(rx1 - rx0) * 8 / dt / 1e6;
  std::uint64_t in_packets = 0, drops_queue = 0, send_errors = 0;
  for (const auto& l : s1.links) {
    in_packets += l.fwd.packets_in;
    drops_queue += l.fwd.drop_queue;
    send_errors += l.fwd.drop_send_error;
  }
  const bondcast::Histogram& late = s1.release_lateness_us;
  nlohmann::json out = {
      {"links", links},
      {"size", size},
      {"offered_mbit", offered_mbit},
      {"link_opts", link_opts},
      {"seconds", dt},
      {"forwarded_mbit", fwd_mbit},
      {"received_mbit", rx_mbit},
      {"forwarded_pps", fwd_mbit * 1e6 / 8 / size},
      {"lateness_us",
       {{"p50", late.quantile(0.5)},
        {"p99", late.quantile(0.99)},
        {"p999", late.quantile(0.999)},
        {"max", late.max()},
        {"count", late.count()}}},
      {"process_cpu_s_per_s", (cpu1 - cpu0) / dt},
      {"emulator_thread_cpu_s_per_s", (emu_cpu1 - emu_cpu0) / dt},
      {"forwarded_mbit_per_emulator_core", fwd_mbit / std::max(1e-9, (emu_cpu1 - emu_cpu0) / dt)},
      {"packets_in", in_packets},
      {"drops_queue", drops_queue},
      {"send_errors", send_errors}};
  std::printf("emulator: %d links, %u-byte datagrams, offered %s, link options '%s'\n", links, size,
              offered_mbit > 0 ? (std::to_string(offered_mbit) + " Mbit/s").c_str() : "max",
              link_opts.c_str());
  std::printf("  forwarded %.1f Mbit/s (%.0f pps), received %.1f Mbit/s over %.1f s\n", fwd_mbit,
              fwd_mbit * 1e6 / 8 / size, rx_mbit, dt);
  std::printf("  emulator thread CPU %.2f s/s: %.0f Mbit/s per core\n", (emu_cpu1 - emu_cpu0) / dt,
              fwd_mbit / std::max(1e-9, (emu_cpu1 - emu_cpu0) / dt));
  std::printf(
      "  release lateness: p50 %llu us, p99 %llu us, p99.9 %llu us, max %llu us (%llu packets)\n",
      static_cast<unsigned long long>(late.quantile(0.5)),
      static_cast<unsigned long long>(late.quantile(0.99)),
      static_cast<unsigned long long>(late.quantile(0.999)),
      static_cast<unsigned long long>(late.max()), static_cast<unsigned long long>(late.count()));
  std::printf("%s\n", out.dump().c_str());
  for (int fd : tx)
    ::close(fd);
  ::close(rx);
  return 0;
}
