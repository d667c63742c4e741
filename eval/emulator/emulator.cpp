// SPDX-License-Identifier: MPL-2.0
#include "eval/emulator/emulator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "eval/emulator/link_model.h"

namespace bondcast::emu {
namespace {

constexpr int kBatch = 64;             // datagrams per recvmmsg/sendmmsg
constexpr int kMaxBatchesPerWake = 4;  // per socket, so one busy link cannot starve others
constexpr std::size_t kMaxDatagram = 65536;
constexpr std::size_t kMaxPackets = 1 << 18;  // pool cap: packets held in queues and delay lines
constexpr int kSocketBuffer = 8 << 20;
constexpr std::uint64_t kTagStop = 1;
// + listen socket index * 2 (listen) or + link index * 2 + 1 (upstream)
constexpr std::uint64_t kTagSocket = 2;

std::string sysError(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

sockaddr_in toSockaddr(const Endpoint& e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(e.addr);
  a.sin_port = htons(e.port);
  return a;
}

void setBuffer(int fd, int force_opt, int opt) {
  int size = kSocketBuffer;
  if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof size) != 0) {
    setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size);  // capped by net.core.*mem_max
  }
}

Result<Fd> openUdp(const Endpoint& bind_to, const Endpoint* connect_to, std::uint16_t& bound_port) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0)
    return Error{sysError("socket")};
  setBuffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF);
  setBuffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF);
  sockaddr_in a = toSockaddr(bind_to);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    return Error{sysError("bind " + bind_to.toString())};
  }
  socklen_t len = sizeof a;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return Error{sysError("getsockname")};
  }
  bound_port = ntohs(a.sin_port);
  if (connect_to) {
    sockaddr_in to = toSockaddr(*connect_to);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      return Error{sysError("connect " + connect_to->toString())};
    }
  }
  return fd;
}

// Asks the scheduler (EEVDF, Linux 6.6+) for a short time slice: same fair share
// of CPU, but an earlier deadline when the thread wakes, so a release is not held
// up for a whole default slice (about 3 ms) behind a busy task on a shared core.
// Best effort: older kernels ignore or refuse it.
void requestShortSlice() {
  struct SchedAttr {
    std::uint32_t size;
    std::uint32_t sched_policy;
    std::uint64_t sched_flags;
    std::int32_t sched_nice;
    std::uint32_t sched_priority;
    std::uint64_t sched_runtime;
    std::uint64_t sched_deadline;
    std::uint64_t sched_period;
  } attr{};
  attr.size = sizeof attr;
  attr.sched_policy = SCHED_OTHER;
  attr.sched_runtime = 100'000;  // ns: the shortest slice the kernel accepts
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
    spdlog::debug("emulator: sched_setattr(slice 100 us): {}", std::strerror(errno));
  }
}

}  // namespace

struct Emulator::Impl {
  // Where senders send. A link without from= has one to itself; links with from= and
  // the same listen endpoint share one, which hands each datagram to the link whose
  // from= is its source address.
  struct ListenSocket {
    Endpoint bind;
    Fd fd;
    std::uint16_t port = 0;
    bool dispatch = false;           // by source address (the links have from=)
    std::vector<std::size_t> links;  // in configuration order
    bool warned_unmatched = false;
  };
  struct Link {
    LinkConfig config;
    std::size_t listen_socket = 0;  // index into listen_sockets
    Fd upstream_fd;
    std::uint16_t upstream_port = 0;
    sockaddr_in peer{};  // the sender, as last seen on the listen socket from this link's source
    bool have_peer = false;
    std::array<std::unique_ptr<EmulatedLink>, 2> models;  // [Forward, Reverse]
    std::array<DirectionStats, 2> shell;                  // shell-side counters
  };

  explicit Impl(NetworkConfig c) : config(std::move(c)) {}

  Status open();
  void run();
  void receive(std::size_t index, int dir);
  std::size_t linkForSource(const ListenSocket& socket, const sockaddr_in& from) const;
  void releaseDue();
  int waitEvents(epoll_event* events, int max_events, Nanos wake);
  Nanos modelNow() const { return std::chrono::steady_clock::now() - epoch; }
  std::uint32_t allocPacket();

  NetworkConfig config;
  std::vector<Link> links;
  std::vector<ListenSocket> listen_sockets;
  std::uint64_t unmatched_source = 0;  // see EmulatorStats
  Fd epoll_fd, stop_fd;
  std::chrono::steady_clock::time_point epoch;
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool started = false;

  mutable std::mutex mu;  // held by the loop while it processes; by stats()
  Histogram lateness_us;

  // Packet pool: handle = index into `packets`.
  std::vector<std::vector<char>> packets;
  std::vector<std::uint32_t> free_packets;

  // Batch buffers, allocated once.
  std::vector<char> scratch;
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iovs{};
  std::array<sockaddr_in, kBatch> addrs{};
  std::vector<Release> released;
  std::vector<std::uint64_t> lost;
  bool have_pwait2 = true;
};

Status Emulator::Impl::open() {
  if (auto s = validate(config); !s)
    return s;
  epoll_fd = Fd(::epoll_create1(EPOLL_CLOEXEC));
  stop_fd = Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (epoll_fd.get() < 0 || stop_fd.get() < 0) {
    return Error{sysError("epoll_create1/eventfd")};
  }
  auto watch = [&](int fd, std::uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    return ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  if (!watch(stop_fd.get(), kTagStop)) {
    return Error{sysError("epoll_ctl")};
  }
  links.resize(config.links.size());
  for (std::size_t i = 0; i < links.size(); ++i) {
    Link& l = links[i];
    l.config = config.links[i];
    std::string where = "link " + std::to_string(i) + ": ";
    auto shared =
        std::find_if(listen_sockets.begin(), listen_sockets.end(), [&](const ListenSocket& s) {
          return l.config.from && s.dispatch && s.bind == l.config.listen;
        });
    if (shared != listen_sockets.end()) {
      l.listen_socket = static_cast<std::size_t>(shared - listen_sockets.begin());
      shared->links.push_back(i);
    } else {
      ListenSocket socket;
      socket.bind = l.config.listen;
      socket.dispatch = l.config.from.has_value();
      socket.links.push_back(i);
      auto listen = openUdp(l.config.listen, nullptr, socket.port);
      if (!listen)
        return Error{where + listen.error().message};
      socket.fd = std::move(listen).value();
      l.listen_socket = listen_sockets.size();
      if (!watch(socket.fd.get(), kTagSocket + l.listen_socket * 2))
        return Error{sysError(where + "epoll_ctl")};
      listen_sockets.push_back(std::move(socket));
    }
    if (!l.config.to)
      return Error{where + "to= is missing (the receiver's address:port; emulate's --to)"};
    auto upstream = openUdp(l.config.via, &*l.config.to, l.upstream_port);
    if (!upstream)
      return Error{where + upstream.error().message};
    l.upstream_fd = std::move(upstream).value();
    if (!watch(l.upstream_fd.get(), kTagSocket + i * 2 + 1)) {
      return Error{sysError(where + "epoll_ctl")};
    }
    for (Direction d : {Direction::Forward, Direction::Reverse}) {
      const DirectionConfig& dc = d == Direction::Forward ? l.config.fwd : l.config.rev;
      l.models[static_cast<std::size_t>(d)] =
          std::make_unique<EmulatedLink>(dc, timelineFor(config.events, i, d), config.seed, i, d);
    }
  }
  scratch.resize(kBatch * kMaxDatagram);
  packets.reserve(4096);
  released.reserve(kBatch * 4);
  return okStatus();
}

std::uint32_t Emulator::Impl::allocPacket() {
  if (!free_packets.empty()) {
    std::uint32_t h = free_packets.back();
    free_packets.pop_back();
    return h;
  }
  if (packets.size() >= kMaxPackets)
    return UINT32_MAX;
  packets.emplace_back();
  packets.back().reserve(2048);
  return static_cast<std::uint32_t>(packets.size() - 1);
}

// The link a datagram on `socket` from `from` belongs to; links.size() if none.
std::size_t Emulator::Impl::linkForSource(const ListenSocket& socket,
                                          const sockaddr_in& from) const {
  if (!socket.dispatch)
    return socket.links.front();
  const std::uint32_t source = ntohl(from.sin_addr.s_addr);
  for (std::size_t i : socket.links) {
    if (*links[i].config.from == source)
      return i;
  }
  return links.size();
}

// Reads what a socket has (a few batches at most), timestamps each batch with one
// clock read, and offers the datagrams to that direction's model. `index`: the
// listen socket (dir 0) or the link whose upstream socket it is (dir 1).
void Emulator::Impl::receive(std::size_t index, int dir) {
  ListenSocket* listen = dir == 0 ? &listen_sockets[index] : nullptr;
  int fd = listen ? listen->fd.get() : links[index].upstream_fd.get();
  for (int batch = 0; batch < kMaxBatchesPerWake; ++batch) {
    for (int k = 0; k < kBatch; ++k) {
      iovs[k] = {scratch.data() + static_cast<std::size_t>(k) * kMaxDatagram, kMaxDatagram};
      msgs[k].msg_hdr = {};
      msgs[k].msg_hdr.msg_iov = &iovs[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
      msgs[k].msg_hdr.msg_name = &addrs[k];
      msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    int n = ::recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      // EAGAIN: drained. ECONNREFUSED: the receiver's port is closed (ICMP on the
      // connected upstream socket); nothing to read, keep going.
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED &&
          errno != EINTR) {
        if (listen)
          spdlog::warn("listen {}: recvmmsg: {}", listen->bind.toString(), std::strerror(errno));
        else
          spdlog::warn("link {}: recvmmsg: {}", index, std::strerror(errno));
      }
      return;
    }
    Nanos now = modelNow();
    for (int k = 0; k < n; ++k) {
      const auto size = static_cast<std::uint32_t>(msgs[k].msg_len);
      std::size_t link = index;
      if (listen) {
        link = linkForSource(*listen, addrs[k]);
        if (link == links.size()) {
          ++unmatched_source;
          if (!listen->warned_unmatched) {
            listen->warned_unmatched = true;
            spdlog::warn(
                "listen {}: datagram from {} matches no link's from= address; dropping such "
                "datagrams (counted in unmatched_source)",
                Endpoint{listen->bind.addr, listen->port}.toString(),
                Endpoint{ntohl(addrs[k].sin_addr.s_addr), ntohs(addrs[k].sin_port)}.toString());
          }
          continue;
        }
        links[link].peer = addrs[k];
        links[link].have_peer = true;
      }
      Link& l = links[link];
      EmulatedLink& model = *l.models[static_cast<std::size_t>(dir)];
      DirectionStats& shell = l.shell[static_cast<std::size_t>(dir)];
      std::uint32_t h = allocPacket();
      if (h == UINT32_MAX) {
        ++shell.drop_no_buffer;
        continue;
      }
      const char* data = static_cast<const char*>(iovs[k].iov_base);
      packets[h].assign(data, data + size);
      if (model.offer(now, size, h) != Verdict::Accepted)
        free_packets.push_back(h);
    }
    // Send what is due before reading more, so a busy socket does not hold back
    // releases (with no delay, a packet is due the moment it arrives). The batch
    // buffers are free again: every datagram was copied into the pool.
    releaseDue();
    if (n < kBatch)
      return;
  }
}

// Polls every model that has something due and sends what it releases, batched per
// socket with sendmmsg; records each packet's lateness against its schedule.
void Emulator::Impl::releaseDue() {
  Nanos now = modelNow();
  for (std::size_t i = 0; i < links.size(); ++i) {
    Link& l = links[i];
    for (int dir = 0; dir < 2; ++dir) {
      EmulatedLink& model = *l.models[static_cast<std::size_t>(dir)];
      if (model.nextWakeup() > now)
        continue;
      released.clear();
      lost.clear();
      model.poll(now, released, lost);
      for (std::uint64_t h : lost)
        free_packets.push_back(static_cast<std::uint32_t>(h));
      DirectionStats& shell = l.shell[static_cast<std::size_t>(dir)];
      const bool fwd = dir == 0;
      int fd = fwd ? l.upstream_fd.get() : listen_sockets[l.listen_socket].fd.get();
      if (!fwd && !l.have_peer) {
        shell.drop_no_peer += released.size();
        for (const Release& r : released)
          free_packets.push_back(static_cast<std::uint32_t>(r.handle));
        continue;
      }
      for (std::size_t start = 0; start < released.size(); start += kBatch) {
        int count = static_cast<int>(std::min<std::size_t>(kBatch, released.size() - start));
        for (int k = 0; k < count; ++k) {
          std::vector<char>& p = packets[released[start + static_cast<std::size_t>(k)].handle];
          iovs[k] = {p.data(), p.size()};
          msgs[k].msg_hdr = {};
          msgs[k].msg_hdr.msg_iov = &iovs[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
          if (!fwd) {
            msgs[k].msg_hdr.msg_name = &l.peer;
            msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
          }
        }
        Nanos send_time = modelNow();
        int sent = 0;
        for (int attempt = 0; attempt < 4 && sent < count; ++attempt) {
          int n = ::sendmmsg(fd, msgs.data() + sent, static_cast<unsigned>(count - sent), 0);
          if (n < 0) {
            if (errno == EINTR)
              continue;
            // The failing datagram is counted and skipped; the rest are retried.
            ++shell.drop_send_error;
            ++sent;
            continue;
          }
          for (int k = sent; k < sent + n; ++k) {
            ++shell.packets_forwarded;
            shell.bytes_forwarded += iovs[k].iov_len;
          }
          sent += n;
        }
        shell.drop_send_error += static_cast<std::uint64_t>(count - sent);
        for (int k = 0; k < count; ++k) {
          const Release& r = released[start + static_cast<std::size_t>(k)];
          lateness_us.add(static_cast<std::uint64_t>(
              std::max<std::int64_t>(0, (send_time - r.due).count()) / 1000));
          free_packets.push_back(static_cast<std::uint32_t>(r.handle));
        }
      }
    }
  }
}

// Waits for socket readiness or until model time `wake`, with nanosecond timeouts
// (epoll_pwait2; the thread's timer slack is 1 ns). Falls back to millisecond
// epoll_wait on kernels before 5.11.
int Emulator::Impl::waitEvents(epoll_event* events, int max_events, Nanos wake) {
  if (wake == kNever)
    return ::epoll_wait(epoll_fd.get(), events, max_events, -1);
  const std::int64_t left_ns = std::max<std::int64_t>(0, (wake - modelNow()).count());
  if (have_pwait2) {
    timespec timeout{static_cast<time_t>(left_ns / 1'000'000'000),
                     static_cast<long>(left_ns % 1'000'000'000)};
    int n = ::epoll_pwait2(epoll_fd.get(), events, max_events, &timeout, nullptr);
    if (n >= 0 || errno != ENOSYS)
      return n;
    have_pwait2 = false;
  }
  return ::epoll_wait(epoll_fd.get(), events, max_events,
                      static_cast<int>((left_ns + 999'999) / 1'000'000));
}

void Emulator::Impl::run() {
  ::prctl(PR_SET_NAME, "bc-emulator", 0, 0, 0);  // findable in top, /proc and the benchmark
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);      // wake-ups on time, not 50 us late
  requestShortSlice();
  std::array<epoll_event, 32> events{};
  // Bounded by stop(): each pass waits for a socket, the next model wake-up or stop.
  while (!stopping.load(std::memory_order_relaxed)) {
    Nanos wake = kNever;
    for (const Link& l : links) {
      for (const auto& m : l.models)
        wake = std::min(wake, m->nextWakeup());
    }
    int n = waitEvents(events.data(), static_cast<int>(events.size()), wake);
    if (n < 0 && errno != EINTR) {
      spdlog::error("emulator: epoll_wait: {}", std::strerror(errno));
      return;
    }
    std::lock_guard lock(mu);
    for (int k = 0; k < n; ++k) {
      std::uint64_t tag = events[static_cast<std::size_t>(k)].data.u64;
      if (tag == kTagStop)
        return;
      std::uint64_t s = tag - kTagSocket;
      receive(s / 2, static_cast<int>(s % 2));
    }
    releaseDue();
  }
}

Emulator::Emulator(NetworkConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Emulator::~Emulator() {
  stop();
}

Status Emulator::start() {
  if (impl_->started)
    return Error{"emulator: start() called twice"};
  if (auto s = impl_->open(); !s)
    return s;
  impl_->started = true;
  impl_->epoch = std::chrono::steady_clock::now();
  impl_->thread = std::thread([this] { impl_->run(); });
  return okStatus();
}

void Emulator::stop() {
  if (!impl_->thread.joinable())
    return;
  impl_->stopping = true;
  std::uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(impl_->stop_fd.get(), &one, sizeof one);
  impl_->thread.join();
}

EmulatorStats Emulator::stats() const {
  std::lock_guard lock(impl_->mu);
  EmulatorStats out;
  out.elapsed_s = impl_->started ? std::chrono::duration<double>(impl_->modelNow()).count() : 0.0;
  for (const Impl::Link& l : impl_->links) {
    EmulatedLinkStats ls;
    ls.listen =
        Endpoint{l.config.listen.addr, impl_->listen_sockets[l.listen_socket].port}.toString();
    ls.to = l.config.to ? l.config.to->toString() : "";
    for (int dir = 0; dir < 2; ++dir) {
      const EmulatedLink& model = *l.models[static_cast<std::size_t>(dir)];
      DirectionStats s = model.stats();
      if (impl_->started)
        s.down = model.isDown(impl_->modelNow());
      const DirectionStats& shell = l.shell[static_cast<std::size_t>(dir)];
      s.drop_no_peer = shell.drop_no_peer;
      s.drop_send_error = shell.drop_send_error;
      s.drop_no_buffer = shell.drop_no_buffer;
      s.packets_forwarded = shell.packets_forwarded;
      s.bytes_forwarded = shell.bytes_forwarded;
      (dir == 0 ? ls.fwd : ls.rev) = std::move(s);
    }
    out.links.push_back(std::move(ls));
  }
  out.unmatched_source = impl_->unmatched_source;
  out.release_lateness_us = impl_->lateness_us;
  return out;
}

std::uint16_t Emulator::listenPort(std::size_t link) const {
  return impl_->listen_sockets.at(impl_->links.at(link).listen_socket).port;
}

std::uint16_t Emulator::upstreamPort(std::size_t link) const {
  return impl_->links.at(link).upstream_port;
}

std::chrono::steady_clock::time_point Emulator::epoch() const {
  return impl_->epoch;
}

}  // namespace bondcast::emu
