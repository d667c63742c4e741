// SPDX-License-Identifier: MPL-2.0
#include "receiver/srtla_relay.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

namespace bondcast::receiver {
namespace {

using srtla::Registry;

constexpr std::uint16_t kSrtAck = 0x8002;
constexpr int kPollMs = 100;
constexpr std::size_t kMaxDatagram = 1500;

Registry::Address addressKey(const sockaddr_storage& ss, socklen_t len) {
  return Registry::Address(reinterpret_cast<const char*>(&ss), len);
}

std::string addressName(const Registry::Address& a) {
  sockaddr_storage ss{};
  std::memcpy(&ss, a.data(), std::min(a.size(), sizeof ss));
  return srt::addressText(reinterpret_cast<const sockaddr*>(&ss));
}

void fillRandom(std::span<std::uint8_t> out) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  for (auto& b : out)
    b = static_cast<std::uint8_t>(rng());
}

}  // namespace

struct SrtlaRelay::GroupState {
  std::uint64_t number = 0;
  Fd fd;  // connected to the SRT listener; none until the group's first SRT packet
  Registry::Address last_active;
};

Result<std::unique_ptr<SrtlaRelay>> SrtlaRelay::create(const srt::SockAddr& listen,
                                                       const srt::SockAddr& srt_listener) {
  Fd fd(::socket(listen.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd)
    return Error{std::string("srtla: socket: ") + std::strerror(errno)};
  if (listen.isIpv6Any()) {  // [::] takes IPv4 senders too
    int off = 0;
    if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0) {
      return Error{"cannot take IPv4 senders on " + srt::addressText(listen.get()) + ": " +
                   std::strerror(errno)};
    }
  }
  // Best effort: the kernel's default still works, with more drops in bursts.
  int rcvbuf = 4 * 1024 * 1024;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (::bind(fd.get(), listen.get(), static_cast<socklen_t>(listen.len)) != 0) {
    return Error{"cannot listen on " + srt::addressText(listen.get()) + ": " +
                 std::strerror(errno)};
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return Error{"srtla: the port bound on " + srt::addressText(listen.get()) + ": " +
                 std::strerror(errno)};
  }
  const std::uint16_t port = bound.ss_family == AF_INET6
                                 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
                                 : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  std::unique_ptr<SrtlaRelay> relay(new SrtlaRelay(std::move(fd), port, srt_listener));
  relay->thread_ = std::thread([r = relay.get()] { r->run(); });
  return relay;
}

SrtlaRelay::SrtlaRelay(Fd fd, std::uint16_t port, const srt::SockAddr& srt_listener)
    : fd_(std::move(fd)), port_(port), srt_listener_(srt_listener), registry_(&fillRandom) {}

SrtlaRelay::~SrtlaRelay() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
  states_.clear();
}

void SrtlaRelay::sendTo(const Registry::Address& to, std::span<const std::uint8_t> data) {
  if (::sendto(fd_.get(), data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(to.data()),
               static_cast<socklen_t>(to.size())) < 0) {
    ++send_errors_;
  }
}

SrtlaRelay::GroupState* SrtlaRelay::stateFor(std::uint64_t number) {
  auto& s = states_[number];
  if (!s) {
    s = std::make_unique<GroupState>();
    s->number = number;
  }
  if (!s->fd) {
    Fd fd(::socket(srt_listener_.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd)
      return nullptr;
    int buf = 4 * 1024 * 1024;  // best effort, as the public socket's
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (::connect(fd.get(), srt_listener_.get(), static_cast<socklen_t>(srt_listener_.len)) != 0) {
      return nullptr;
    }
    s->fd = std::move(fd);
  }
  return s.get();
}

void SrtlaRelay::onPublic(const Registry::Address& from, std::span<const std::uint8_t> data,
                          Registry::TimePoint now) {
  const srtla::ParseResult r = srtla::parse(data);
  if (!r.packet) {
    ++malformed_;
    return;
  }
  const srtla::Packet& p = *r.packet;
  switch (p.kind) {
    case srtla::Kind::kReg1: {
      const auto answer = registry_.onReg1(from, p.group, now);
      sendTo(from, answer);
      if (srtla::parse(answer).packet->kind == srtla::Kind::kReg2)
        spdlog::info("srtla: new group from {}", addressName(from));
      return;
    }
    case srtla::Kind::kReg2: {
      const auto answer = registry_.onReg2(from, p.group, now);
      sendTo(from, answer);
      if (srtla::parse(answer).packet->kind == srtla::Kind::kReg3) {
        if (const auto* g = registry_.groupOf(from))
          spdlog::info("srtla: group {}: link {} registered", g->number, addressName(from));
      }
      return;
    }
    case srtla::Kind::kKeepalive:
      // Echoed unchanged (the sender's RTT), to a registered link only: an echo is how a
      // sender knows its link is heard, and a receiver that restarted must let the links
      // of a group it never knew fall silent, so they register again. Nor does the
      // receiver reflect datagrams to whatever source address a packet claims.
      if (registry_.onTraffic(from, data.size(), now) == nullptr)
        return;  // counted by the registry
      ++keepalives_;
      sendTo(from, data);
      return;
    case srtla::Kind::kSrtData:
    case srtla::Kind::kSrtControl: {
      const Registry::Group* g = registry_.onTraffic(from, data.size(), now);
      if (g == nullptr)
        return;  // counted by the registry
      GroupState* s = stateFor(g->number);
      if (s == nullptr) {
        ++send_errors_;
        return;
      }
      s->last_active = from;
      if (::send(s->fd.get(), data.data(), data.size(), 0) < 0)
        ++send_errors_;
      ++forwarded_;
      if (p.kind == srtla::Kind::kSrtData) {
        LinkAcks& a = acks_[from];
        a.seqs[a.count++] = p.srt_seq;
        if (a.count == srtla::kAckSeqs) {
          sendTo(from, srtla::ack(std::span<const std::uint32_t, srtla::kAckSeqs>(a.seqs)));
          ++acks_sent_;
          a.count = 0;
        }
      }
      return;
    }
    default:
      ++malformed_;  // a sender's packet a receiver does not take (ACK, REG3, ...)
      return;
  }
}

void SrtlaRelay::onGroup(GroupState& s, std::span<const std::uint8_t> data) {
  const auto& groups = registry_.groups();
  auto g = groups.find(s.number);
  if (g == groups.end())
    return;
  ++returned_;
  const bool ack = data.size() >= 2 && ((data[0] << 8) | data[1]) == kSrtAck;
  if (ack) {
    for (const auto& l : g->second.links)
      sendTo(l.address, data);
  } else if (!s.last_active.empty()) {
    sendTo(s.last_active, data);
  }
}

void SrtlaRelay::expire(Registry::TimePoint now) {
  for (std::uint64_t gone : registry_.expire(now)) {
    spdlog::info("srtla: group {} ended (no link left)", gone);
    states_.erase(gone);
  }
  std::erase_if(acks_, [&](const auto& e) { return registry_.groupOf(e.first) == nullptr; });
}

void SrtlaRelay::run() {
  std::array<std::uint8_t, kMaxDatagram> buf{};
  auto last_expire = Registry::Clock::now();
  std::vector<pollfd> fds;
  std::vector<GroupState*> owners;
  while (!stop_) {
    fds.clear();
    owners.clear();
    fds.push_back({fd_.get(), POLLIN, 0});
    owners.push_back(nullptr);
    {
      std::lock_guard lock(mu_);
      for (auto& [number, s] : states_) {
        if (s->fd) {
          fds.push_back({s->fd.get(), POLLIN, 0});
          owners.push_back(s.get());
        }
      }
    }
    const int n = ::poll(fds.data(), fds.size(), kPollMs);
    const auto now = Registry::Clock::now();
    std::lock_guard lock(mu_);
    if (n > 0) {
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if ((fds[i].revents & POLLIN) == 0)
          continue;
        // Bounded per wake-up so one busy socket cannot starve the others.
        for (int k = 0; k < 64; ++k) {
          if (owners[i] == nullptr) {
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            const ssize_t got = ::recvfrom(fd_.get(), buf.data(), buf.size(), 0,
                                           reinterpret_cast<sockaddr*>(&from), &len);
            if (got < 0)
              break;
            onPublic(addressKey(from, len),
                     std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(got)), now);
          } else {
            const ssize_t got = ::recv(owners[i]->fd.get(), buf.data(), buf.size(), 0);
            if (got < 0)
              break;
            onGroup(*owners[i],
                    std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(got)));
          }
        }
      }
    }
    if (now - last_expire >= std::chrono::seconds(1)) {
      expire(now);
      last_expire = now;
    }
  }
}

nlohmann::json SrtlaRelay::statsJson() const {
  std::lock_guard lock(mu_);
  const auto& c = registry_.counters();
  nlohmann::json groups = nlohmann::json::array();
  const auto now = Registry::Clock::now();
  for (const auto& [number, g] : registry_.groups()) {
    nlohmann::json links = nlohmann::json::array();
    for (const auto& l : g.links) {
      links.push_back(
          {{"address", addressName(l.address)},
           {"packets", l.packets},
           {"bytes", l.bytes},
           {"last_seen_ms",
            std::chrono::duration_cast<std::chrono::milliseconds>(now - l.last_seen).count()}});
    }
    groups.push_back({{"group", number}, {"links", std::move(links)}});
  }
  return {{"port", port_},
          {"groups", std::move(groups)},
          {"malformed", malformed_},
          {"forwarded", forwarded_},
          {"returned", returned_},
          {"keepalives", keepalives_},
          {"acks_sent", acks_sent_},
          {"send_errors", send_errors_},
          {"groups_created", c.groups_created},
          {"links_registered", c.links_registered},
          {"refused_group_limit", c.refused_group_limit},
          {"refused_link_limit", c.refused_link_limit},
          {"refused_other_group", c.refused_other_group},
          {"unknown_group", c.unknown_group},
          {"unregistered", c.unregistered},
          {"links_timed_out", c.links_timed_out},
          {"groups_expired", c.groups_expired}};
}

}  // namespace bondcast::receiver
