// SPDX-License-Identifier: MPL-2.0
#include "sender/srtla_sender.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <random>
#include <unordered_map>

#include "common/fd.h"
#include "common/srt/link_stats.h"
#include "scheduler/factory.h"

namespace bondcast::sender {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

// A datagram of libsrt's is at most this long (1316 bytes of payload, SRT's header).
constexpr std::size_t kMaxDatagram = 1500;
// Registration packets are sent again after this long without an answer; REG1 moves to
// the next link after two tries.
constexpr milliseconds kRegRetry{500};
// Capacity: the confirmed rate over each slot, the highest over the window.
constexpr milliseconds kRateSlot{100};
constexpr std::size_t kRateSlots = 20;
// How long what a sequence number was carried by is remembered (for NAKs and deadlines),
// beyond the latency.
constexpr milliseconds kSeqMemory{1000};
// A retransmission libsrt sends (the receiver NAKed the packet) goes out only if the copy
// already sent was not confirmed by the time it should have been: its link's round trip
// and this slack (SRT ACKs every 10 ms, SRTLA ACKs every 10 packets). Most NAKs over
// links of different delays are reordering, not loss: on S1 (15 and 60 ms one way)
// forwarding each made 28% of the packets retransmissions.
constexpr milliseconds kConfirmSlack{20};

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

// SRT's 31-bit sequence numbers: a comes before b.
bool seqBefore(std::uint32_t a, std::uint32_t b) {
  const std::uint32_t d = (b - a) & 0x7FFFFFFFu;
  return d != 0 && d < 0x40000000u;
}

std::string sysError(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// The id this sender proposes in REG1 (the receiver keeps its first half).
srtla::GroupId randomGroupId() {
  std::random_device rd;
  std::mt19937_64 gen((std::uint64_t{rd()} << 32) ^ rd());
  srtla::GroupId id{};
  for (auto& b : id)
    b = static_cast<std::uint8_t>(gen());
  return id;
}

}  // namespace

// One SRTLA link: its socket, registration and what it carries.
struct SrtlaSender::Link {
  enum class Reg { kNone, kRegistering, kUp };
  struct Held {
    std::uint32_t seq;
    std::uint32_t bytes;
    Clock::time_point sent_at;
    bool confirmed;
  };

  LinkSpec spec;
  srt::SockAddr peer;
  Fd fd;
  sched::LinkId id = 0;
  Reg reg = Reg::kNone;
  Clock::time_point last_heard{};
  Clock::time_point last_reg_sent{};
  Clock::time_point last_keepalive{};
  std::string last_error;
  std::deque<Held> held;  // in send order
  std::uint64_t held_bytes = 0;
  std::uint64_t held_packets = 0;  // not confirmed
  // Keepalives sent: their timestamp (ms, what the receiver echoes) and when.
  std::deque<std::pair<std::uint64_t, Clock::time_point>> pings;
  microseconds srtt{0};
  bool have_rtt = false;
  // Confirmed bytes per kRateSlot, newest last.
  std::deque<std::uint64_t> slots;
  std::uint64_t slot_bytes = 0;
  Clock::time_point slot_start{};
  double capacity_bps = 0;
  // Counters.
  std::uint64_t pkts_sent = 0, bytes_sent = 0, pkts_confirmed = 0, lost = 0;
  std::uint64_t pkts_heard = 0, bytes_heard = 0;  // datagrams from the receiver
  std::uint64_t send_errors = 0, registrations = 0;
  std::uint64_t interval_bytes_sent = 0, interval_bytes_received = 0;
  Clock::time_point interval_start = Clock::now();
};

struct SrtlaSender::Relay {
  struct Stored {
    std::vector<std::uint8_t> datagram;
    Clock::time_point deadline;
  };
  struct SeqInfo {
    Clock::time_point first_sent;
    Clock::time_point last_sent;  // the latest copy on a link
    std::uint8_t links = 0;       // bit per link id
    bool confirmed = false;       // an SRTLA ACK named it
  };
  struct HeldBack {  // a retransmission waiting for the copy under way to be confirmed
    Clock::time_point release;
    std::uint32_t seq;
    std::vector<std::uint8_t> datagram;
  };

  SrtlaSenderConfig config;
  std::unique_ptr<sched::Scheduler> scheduler;
  std::vector<std::unique_ptr<Link>> links;
  Fd local;  // libsrt's peer
  std::uint16_t local_port = 0;
  sockaddr_storage srt_addr{};
  socklen_t srt_addr_len = 0;
  std::atomic<bool> stop{false};

  srtla::GroupId group{};
  bool have_group = false;  // the receiver answered REG1 with the full id
  std::size_t reg1_link = 0;
  int reg1_tries = 0;

  std::uint64_t next_packet = 0;
  std::unordered_map<std::uint64_t, Stored> stored;  // by scheduler packet seq
  std::deque<std::pair<Clock::time_point, std::uint64_t>> stored_order;
  std::unordered_map<std::uint32_t, SeqInfo> seqs;
  std::deque<std::pair<Clock::time_point, std::uint32_t>> seq_order;
  Clock::time_point last_feedback{};
  std::deque<HeldBack> held_back;  // release times in order of arrival (not sorted)
  std::uint32_t srt_acked_below = 0;
  bool have_srt_ack = false;

  std::mutex mu;  // guards links' counters and the fields below for statsJson
  std::uint64_t from_srt = 0, to_srt = 0, unscheduled = 0, malformed = 0, resent = 0;
  std::uint64_t retransmissions = 0, retransmissions_spared = 0, retransmissions_rerouted = 0;
  bool connected_once = false;

  void run();
  void onLocal(std::span<const std::uint8_t> d, Clock::time_point now);
  void onLink(Link& l, std::span<const std::uint8_t> d, Clock::time_point now);
  void sendOn(Link& l, std::span<const std::uint8_t> d);
  void sendData(std::span<const std::uint8_t> d, std::uint32_t seq, bool retransmitted,
                Clock::time_point now);
  void carry(Link& l, std::span<const std::uint8_t> d, std::uint32_t seq, Clock::time_point now);
  void rerouteRetransmission(std::span<const std::uint8_t> d, std::uint32_t seq,
                             std::uint8_t carried_by, const sched::LinkSet& picked,
                             Clock::time_point now);
  void confirm(Link& l, Link::Held& h, bool by_link_ack);
  void onSrtAck(std::uint32_t ack, Clock::time_point now);
  bool confirmed(std::uint32_t seq) const;
  void onRetransmission(std::span<const std::uint8_t> d, std::uint32_t seq, Clock::time_point now);
  void releaseHeldBack(Clock::time_point now);
  void housekeeping(Clock::time_point now);
  void linkDown(Link& l, const std::string& why, Clock::time_point now);
  void feedback(Clock::time_point now);
  void prune(Clock::time_point now);
};

SrtlaSender::SrtlaSender(SrtlaSenderConfig config) : config_(std::move(config)) {}

SrtlaSender::~SrtlaSender() {
  sock_.reset();  // libsrt's shutdown goes out through the relay while it runs
  if (relay_)
    relay_->stop = true;
  if (thread_.joinable())
    thread_.join();
}

Result<std::unique_ptr<SrtlaSender>> SrtlaSender::create(SrtlaSenderConfig config) {
  if (config.links.empty())
    return Error{"at least one --link is needed"};
  if (config.links.size() > sched::kMaxLinks) {
    return Error{"at most " + std::to_string(sched::kMaxLinks) +
                 " links in srtla mode (an SRTLA group has at most 8)"};
  }
  if (config.redundancy_budget < 0 || config.redundancy_budget > 1)
    return Error{"redundancy budget must be 0% to 100%"};
  sched::SchedulerConfig sc;
  sc.overhead_budget = config.redundancy_budget;
  auto scheduler = sched::makeScheduler(config.policy, sc);
  if (!scheduler)
    return scheduler.error();

  std::unique_ptr<SrtlaSender> self(new SrtlaSender(config));
  auto relay = std::make_unique<Relay>();
  relay->scheduler = std::move(*scheduler);
  const auto now = Clock::now();
  for (const auto& spec : config.links) {
    auto link = std::make_unique<Link>();
    link->spec = spec;
    auto peer = srt::resolve(spec.host, spec.port, false);
    if (!peer)
      return Error{"link '" + spec.text + "': " + peer.error().message};
    link->peer = *peer;
    if (auto st = checkLinkDevice(spec); !st)
      return st.error();
    Fd fd(::socket(link->peer.storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0)
      return Error{"link '" + spec.text + "': " + sysError("socket")};
    if (!spec.device.empty() && ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE,
                                             spec.device.c_str(), spec.device.size()) != 0) {
      return Error{"link '" + spec.text + "': " + sysError("binding to device " + spec.device)};
    }
    if (!spec.bind_host.empty()) {
      auto bind = srt::resolve(spec.bind_host, spec.bind_port, false);
      if (!bind)
        return Error{"link '" + spec.text + "' bind: " + bind.error().message};
      if (bind->storage.ss_family != link->peer.storage.ss_family) {
        return Error{"link '" + spec.text + "': bind address " + spec.bind_host +
                     " is not of the receiver's address family"};
      }
      if (::bind(fd.get(), bind->get(), static_cast<socklen_t>(bind->len)) != 0) {
        return Error{"link '" + spec.text +
                     "': " + sysError("binding to " + srt::addressText(bind->get()))};
      }
    }
    if (::connect(fd.get(), link->peer.get(), static_cast<socklen_t>(link->peer.len)) != 0)
      return Error{"link '" + spec.text + "': " + sysError("connecting its UDP socket")};
    link->fd = std::move(fd);
    link->id = relay->scheduler->addLink({spec.text, spec.cost}, now);
    relay->links.push_back(std::move(link));
  }
  // libsrt's peer: a UDP socket on loopback.
  Fd local(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (local.get() < 0)
    return Error{sysError("srtla relay socket")};
  sockaddr_in lo{};
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof lo;
  if (::bind(local.get(), reinterpret_cast<sockaddr*>(&lo), sizeof lo) != 0 ||
      ::getsockname(local.get(), reinterpret_cast<sockaddr*>(&lo), &len) != 0) {
    return Error{sysError("srtla relay socket on 127.0.0.1")};
  }
  relay->local_port = ntohs(lo.sin_port);
  relay->local = std::move(local);
  relay->group = randomGroupId();
  relay->config = std::move(config);
  self->relay_ = std::move(relay);
  return self;
}

Result<srt::Socket> SrtlaSender::startSrt(milliseconds conntimeo) const {
  srt::Socket sock(srt_create_socket());
  const SRTSOCKET s = sock.get();
  if (s == SRT_INVALID_SOCK)
    return Error{srt::lastError("creating the SRT socket")};
  if (auto st = srt::applyCommonOptions(s, config_.srt, "the srtla connection"); !st)
    return st.error();
  const bool no = false;
  if (auto st = srt::setOption(s, SRTO_RCVSYN, no, "non-blocking connect"); !st)
    return st.error();
  if (auto st = srt::setOption(s, SRTO_SNDSYN, no, "non-blocking send"); !st)
    return st.error();
  if (config_.srt.conntimeo.count() == 0) {
    // The handshake waits for a link's registration: give it time for that.
    const int ms = static_cast<int>(std::clamp<std::int64_t>(conntimeo.count(), 3000, 60000));
    if (auto st = srt::setOption(s, SRTO_CONNTIMEO, ms, "conntimeo"); !st)
      return st.error();
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(relay_->local_port);
  if (srt_connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) == SRT_ERROR)
    return Error{srt::lastError("srtla: connecting")};
  return sock;
}

Status SrtlaSender::connect(milliseconds timeout, const std::atomic<bool>* cancel) {
  Relay& r = *relay_;
  thread_ = std::thread([&r] { r.run(); });
  auto started = startSrt(timeout);
  if (!started)
    return started.error();
  SRTSOCKET s = SRT_INVALID_SOCK;
  {
    std::lock_guard lock(sock_mu_);
    sock_ = std::move(*started);
    s = sock_.get();
  }
  const auto end = Clock::now() + timeout;
  while (true) {
    const SRT_SOCKSTATUS st = srt_getsockstate(s);
    if (st == SRTS_CONNECTED)
      break;
    auto reasons = [&] {
      std::vector<std::pair<std::string, std::string>> out;
      std::lock_guard lock(r.mu);
      for (const auto& l : r.links) {
        std::string why = l->last_error;
        if (why.empty() && l->reg == Link::Reg::kUp)
          why = "registered with the SRTLA receiver, but its SRT listener did not answer";
        out.emplace_back(l->spec.text, why);
      }
      return out;
    };
    if (st == SRTS_BROKEN || st == SRTS_CLOSED || st == SRTS_NONEXIST) {
      const int reason = srt_getrejectreason(s);
      std::string why = reason != SRT_REJ_UNKNOWN && reason != SRT_REJ_TIMEOUT
                            ? srt::rejectionText(reason)
                            : std::string();
      if (!why.empty())
        return Error{"the SRT connection over SRTLA was refused: " + why};
      return noLinkConnected(reasons());
    }
    if (Clock::now() >= end || (cancel && *cancel))
      return noLinkConnected(reasons());
    std::this_thread::sleep_for(milliseconds(10));
  }
  spdlog::info("srtla: SRT connection up over {} link(s)", [&] {
    std::lock_guard lock(r.mu);
    return std::count_if(r.links.begin(), r.links.end(),
                         [](const auto& l) { return l->reg == Link::Reg::kUp; });
  }());
  spdlog::debug("srtla: SRT options in effect: {}", srt::optionsInEffect(s));
  connected_ = true;
  std::lock_guard lock(r.mu);
  r.connected_once = true;
  return okStatus();
}

// The SRT connection broke (the receiver restarted, every link was dark longer than SRT's
// peer idle timeout): a new one over the links, once a second until one connects. The
// relay registers the links again meanwhile (a restarted receiver answers REG_NGP).
void SrtlaSender::maintain() {
  if (!connected_ || draining_)
    return;
  std::lock_guard lock(sock_mu_);
  const SRT_SOCKSTATUS st = srt_getsockstate(sock_.get());
  if (st == SRTS_CONNECTED) {
    if (reconnecting_) {
      reconnecting_ = false;
      spdlog::info("srtla: SRT connection up again");
    }
    return;
  }
  if (st == SRTS_CONNECTING || st == SRTS_OPENED || st == SRTS_INIT)
    return;
  const auto now = Clock::now();
  if (!reconnecting_) {
    reconnecting_ = true;
    ++reconnects_;
    spdlog::warn("srtla: the SRT connection ended ({}); connecting again",
                 srt_getrejectreason(sock_.get()) == SRT_REJ_UNKNOWN
                     ? std::string("closed or timed out")
                     : srt::rejectionText(srt_getrejectreason(sock_.get())));
  }
  if (now < next_attempt_)
    return;
  next_attempt_ = now + std::chrono::seconds(1);
  auto started = startSrt(milliseconds(5000));
  if (!started) {
    spdlog::warn("srtla: {}", started.error().message);
    return;
  }
  sock_ = std::move(*started);
}

void SrtlaSender::send(const OutPacket& packet) {
  std::lock_guard lock(sock_mu_);
  SRT_MSGCTRL mc = srt_msgctrl_default;
  const int n = srt_sendmsg2(sock_.get(), reinterpret_cast<const char*>(packet.payload.data()),
                             static_cast<int>(packet.payload.size()), &mc);
  if (n == SRT_ERROR) {
    if (refused_++ == 0)
      spdlog::warn("srtla: the SRT connection refused a payload: {}", srt_getlasterror_str());
  }
}

Result<LinkChanges> SrtlaSender::setLinks(const std::vector<LinkSpec>& /*links*/) {
  return Error{
      "srtla mode cannot change its links while it runs (they are one SRTLA group's "
      "registrations): restart the sender with the new links"};
}

void SrtlaSender::drain(milliseconds timeout) {
  draining_ = true;
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    std::size_t blocks = 0, bytes = 0;
    std::lock_guard lock(sock_mu_);
    if (srt_getsndbuffer(sock_.get(), &blocks, &bytes) != 0 || blocks == 0)
      break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  // What the receiver acknowledged it plays out after its latency.
  const auto remaining = duration_cast<milliseconds>(end - Clock::now());
  std::this_thread::sleep_for(std::clamp(config_.srt.latency + milliseconds(100), milliseconds(0),
                                         std::max(remaining, milliseconds(0))));
}

nlohmann::json SrtlaSender::statsJson(bool clear_interval) {
  Relay& r = *relay_;
  const auto now = Clock::now();
  nlohmann::json links = nlohmann::json::array();
  std::lock_guard lock(r.mu);
  for (auto& lp : r.links) {
    Link& l = *lp;
    const double secs =
        std::max(1e-3, duration_cast<microseconds>(now - l.interval_start).count() / 1e6);
    srt::LinkStats ls;
    ls.name = l.spec.text;
    ls.state = l.reg == Link::Reg::kUp
                   ? (r.scheduler->link(l.id).state() == LinkState::kStalled ? LinkState::kStalled
                                                                             : LinkState::kUp)
                   : (l.reg == Link::Reg::kRegistering ? LinkState::kConnecting : LinkState::kDown);
    ls.rtt_ms = l.have_rtt ? l.srtt.count() / 1000.0 : 0;
    ls.send_rate_mbps = l.interval_bytes_sent * 8 / secs / 1e6;
    ls.recv_rate_mbps = l.interval_bytes_received * 8 / secs / 1e6;
    ls.bandwidth_mbps = l.capacity_bps / 1e6;
    ls.pkts_sent = static_cast<std::int64_t>(l.pkts_sent);
    ls.bytes_sent = static_cast<std::int64_t>(l.bytes_sent);
    ls.pkts_received = static_cast<std::int64_t>(l.pkts_heard);
    ls.bytes_received = static_cast<std::int64_t>(l.bytes_heard);
    ls.pkts_lost_send = static_cast<std::int64_t>(l.lost);
    ls.flight_pkts = static_cast<int>(l.held_packets);
    ls.send_buffer_ms =
        l.held.empty()
            ? 0
            : static_cast<int>(duration_cast<milliseconds>(now - l.held.front().sent_at).count());
    nlohmann::json j = srt::toJson(ls);
    j["pkts_confirmed"] = l.pkts_confirmed;
    j["registrations"] = l.registrations;
    j["send_errors"] = l.send_errors;
    if (!l.last_error.empty() && l.reg != Link::Reg::kUp)
      j["error"] = l.last_error;
    links.push_back(std::move(j));
    if (clear_interval) {
      l.interval_bytes_sent = l.interval_bytes_received = 0;
      l.interval_start = now;
    }
  }
  srt::LinkStats conn;
  conn.name = "srt";
  {
    std::lock_guard sock_lock(sock_mu_);
    srt::readLinkStats(sock_.get(), conn, clear_interval);
  }
  const auto& ss = r.scheduler->stats();
  return {{"links", links},
          {"policy", r.scheduler->name()},
          {"srt", srt::toJson(conn)},
          {"srtla",
           {{"registered", r.have_group},
            {"from_srt", r.from_srt},
            {"to_srt", r.to_srt},
            {"unscheduled", r.unscheduled},
            {"resent", r.resent},
            {"retransmissions", r.retransmissions},
            {"retransmissions_spared", r.retransmissions_spared},
            {"retransmissions_rerouted", r.retransmissions_rerouted},
            {"malformed", r.malformed},
            {"refused_payloads", refused_.load()},
            {"srt_reconnects", reconnects_.load()},
            {"dropped_late", ss.dropped_late}}}};
}

// ---- the relay (its own thread) ----

void SrtlaSender::Relay::run() {
  std::vector<pollfd> fds(links.size() + 1);
  fds[0] = {local.get(), POLLIN, 0};
  for (std::size_t i = 0; i < links.size(); ++i)
    fds[i + 1] = {links[i]->fd.get(), POLLIN, 0};
  std::uint8_t buf[kMaxDatagram + 64];
  while (!stop) {
    const int timeout_ms =
        static_cast<int>(std::max<std::int64_t>(1, config.feedback_interval.count() / 2));
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) {
      spdlog::error("srtla: {}", sysError("poll"));
      return;
    }
    std::lock_guard lock(mu);
    const auto now = Clock::now();
    for (int burst = 0; burst < 64 && (fds[0].revents & POLLIN); ++burst) {
      sockaddr_storage from{};
      socklen_t flen = sizeof from;
      const ssize_t got =
          ::recvfrom(local.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (got < 0)
        break;
      srt_addr = from;
      srt_addr_len = flen;
      onLocal({buf, static_cast<std::size_t>(got)}, now);
    }
    for (std::size_t i = 0; i < links.size(); ++i) {
      if (!(fds[i + 1].revents & (POLLIN | POLLERR)))
        continue;
      for (int burst = 0; burst < 64; ++burst) {
        const ssize_t got = ::recv(links[i]->fd.get(), buf, sizeof buf, 0);
        if (got < 0) {
          // ICMP port unreachable and the like: the receiver is not there (yet).
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            links[i]->last_error = sysError("receiving");
          break;
        }
        onLink(*links[i], {buf, static_cast<std::size_t>(got)}, now);
      }
    }
    housekeeping(now);
    if (now - last_feedback >= config.feedback_interval) {
      last_feedback = now;
      feedback(now);
    }
  }
}

void SrtlaSender::Relay::sendOn(Link& l, std::span<const std::uint8_t> d) {
  if (::send(l.fd.get(), d.data(), d.size(), MSG_DONTWAIT) < 0) {
    if (l.send_errors++ == 0 || errno != EAGAIN)
      l.last_error = sysError("sending");
    return;
  }
  l.interval_bytes_sent += d.size();
}

void SrtlaSender::Relay::onLocal(std::span<const std::uint8_t> d, Clock::time_point now) {
  ++from_srt;
  if (d.size() < srtla::kSrtHeaderBytes) {
    ++malformed;
    return;
  }
  const std::uint32_t w0 = be32(d.data());
  if ((w0 & 0x80000000u) == 0) {
    const bool retransmitted = (be32(d.data() + 4) & 0x04000000u) != 0;
    if (retransmitted)
      onRetransmission(d, w0 & 0x7FFFFFFFu, now);
    else
      sendData(d, w0 & 0x7FFFFFFFu, false, now);
    return;
  }
  const std::uint32_t type = (w0 >> 16) & 0x7FFFu;
  // Handshakes and shutdowns on every registered link (any may be the one that gets
  // through); the rest (ACKACK, keepalive) on the link with the shortest round trip.
  Link* best = nullptr;
  for (auto& l : links) {
    if (l->reg != Link::Reg::kUp)
      continue;
    if (type == 0 || type == 5) {
      sendOn(*l, d);
    } else if (!best || (l->have_rtt && (!best->have_rtt || l->srtt < best->srtt))) {
      best = l.get();
    }
  }
  if (best)
    sendOn(*best, d);
}

void SrtlaSender::Relay::sendData(std::span<const std::uint8_t> d, std::uint32_t seq,
                                  bool retransmitted, Clock::time_point now) {
  auto& info = seqs[seq];
  const std::uint8_t carried_by = info.links;
  if (info.first_sent == Clock::time_point{} || !retransmitted) {
    if (info.first_sent == Clock::time_point{})
      seq_order.emplace_back(now, seq);
    info.first_sent = now;
  }
  sched::Packet p;
  p.seq = next_packet++;
  p.size_bytes = static_cast<std::uint32_t>(d.size());
  p.deadline = info.first_sent + config.srt.latency;
  const sched::LinkSet picked = scheduler->pick(p, now);
  if (picked.empty()) {
    ++unscheduled;
  } else {
    for (sched::LinkId id : picked)
      carry(*links[id], d, seq, now);
    if (retransmitted && carried_by != 0)
      rerouteRetransmission(d, seq, carried_by, picked, now);
  }
  // Kept for the scheduler's re-sends until its deadline.
  stored[p.seq] = {std::vector<std::uint8_t>(d.begin(), d.end()), p.deadline};
  stored_order.emplace_back(p.deadline, p.seq);
}

// A retransmission goes out only once the copy sent was not confirmed in time
// (onRetransmission), so the links that carried it are suspect: a link cut mid-stream
// stays in the scheduler's choice until it is found stalled or silent (link_timeout), and
// every copy put on it meanwhile is lost as well, until the receiver's latency runs out
// (seen in CI under load: 3 payloads lost at a cut, 1 s latency). When the scheduler
// picked only such links, one copy also goes on the live link with the shortest round
// trip that has not carried it.
void SrtlaSender::Relay::rerouteRetransmission(std::span<const std::uint8_t> d, std::uint32_t seq,
                                               std::uint8_t carried_by,
                                               const sched::LinkSet& picked,
                                               Clock::time_point now) {
  for (std::size_t i = 0; i < picked.size(); ++i) {
    if ((carried_by & (1u << picked[i])) == 0)
      return;  // a link that has not carried it is in the choice already
  }
  Link* best = nullptr;
  for (auto& l : links) {
    if (l->reg != Link::Reg::kUp || (carried_by & (1u << l->id)) != 0 ||
        scheduler->link(l->id).state() != LinkState::kUp) {
      continue;
    }
    if (!best || (l->have_rtt && (!best->have_rtt || l->srtt < best->srtt)))
      best = l.get();
  }
  if (best) {
    carry(*best, d, seq, now);
    ++retransmissions_rerouted;
  }
}

void SrtlaSender::Relay::carry(Link& l, std::span<const std::uint8_t> d, std::uint32_t seq,
                               Clock::time_point now) {
  if (l.reg != Link::Reg::kUp)
    return;
  sendOn(l, d);
  l.held.push_back({seq, static_cast<std::uint32_t>(d.size()), now, false});
  l.held_bytes += d.size();
  ++l.held_packets;
  ++l.pkts_sent;
  l.bytes_sent += d.size();
  auto& info = seqs[seq];
  info.links |= static_cast<std::uint8_t>(1u << l.id);
  info.last_sent = now;
}

void SrtlaSender::Relay::confirm(Link& l, Link::Held& h, bool by_link_ack) {
  if (h.confirmed)
    return;
  h.confirmed = true;
  l.held_bytes -= h.bytes;
  --l.held_packets;
  ++l.pkts_confirmed;
  // The link's delivery rate: only what its own SRTLA ACKs confirm (they come as its
  // packets arrive); an SRT ACK confirms a whole run at once when a gap elsewhere fills.
  if (by_link_ack)
    l.slot_bytes += h.bytes;
}

bool SrtlaSender::Relay::confirmed(std::uint32_t seq) const {
  if (have_srt_ack && seqBefore(seq, srt_acked_below))
    return true;
  auto it = seqs.find(seq);
  return it != seqs.end() && it->second.confirmed;
}

void SrtlaSender::Relay::onRetransmission(std::span<const std::uint8_t> d, std::uint32_t seq,
                                          Clock::time_point now) {
  ++retransmissions;
  auto it = seqs.find(seq);
  if (it != seqs.end() && it->second.links != 0) {
    if (confirmed(seq)) {
      ++retransmissions_spared;
      return;
    }
    microseconds rtt{0};
    for (auto& l : links) {
      if (it->second.links & (1u << l->id))
        rtt = std::max(rtt, l->have_rtt ? l->srtt : microseconds(milliseconds(100)));
    }
    const auto release = it->second.last_sent + rtt + kConfirmSlack;
    if (now < release) {
      held_back.push_back({release, seq, std::vector<std::uint8_t>(d.begin(), d.end())});
      return;
    }
  }
  sendData(d, seq, true, now);
}

void SrtlaSender::Relay::releaseHeldBack(Clock::time_point now) {
  for (auto it = held_back.begin(); it != held_back.end();) {
    if (it->release > now) {
      ++it;
      continue;
    }
    if (confirmed(it->seq)) {
      ++retransmissions_spared;
    } else {
      // Lost after all: charged to the links that carried it.
      if (auto info = seqs.find(it->seq); info != seqs.end()) {
        for (auto& l : links) {
          if (info->second.links & (1u << l->id))
            ++l->lost;
        }
      }
      sendData(it->datagram, it->seq, true, now);
    }
    it = held_back.erase(it);
  }
}

void SrtlaSender::Relay::onLink(Link& l, std::span<const std::uint8_t> d, Clock::time_point now) {
  auto parsed = srtla::parse(d);
  if (!parsed.packet) {
    ++malformed;
    return;
  }
  l.last_heard = now;
  l.interval_bytes_received += d.size();
  ++l.pkts_heard;
  l.bytes_heard += d.size();
  const srtla::Packet& p = *parsed.packet;
  switch (p.kind) {
    case srtla::Kind::kSrtData:
    case srtla::Kind::kSrtControl: {
      if (l.reg != Link::Reg::kUp)
        return;
      if (p.kind == srtla::Kind::kSrtControl && d.size() >= srtla::kSrtHeaderBytes + 4) {
        const std::uint32_t type = (be32(d.data()) >> 16) & 0x7FFFu;
        if (type == 2)
          onSrtAck(be32(d.data() + 16) & 0x7FFFFFFFu, now);
      }
      if (srt_addr_len > 0) {
        ::sendto(local.get(), d.data(), d.size(), MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr*>(&srt_addr), srt_addr_len);
        ++to_srt;
      }
      return;
    }
    case srtla::Kind::kAck:
      for (std::uint32_t seq : p.acked) {
        seq &= 0x7FFFFFFFu;
        if (auto info = seqs.find(seq); info != seqs.end())
          info->second.confirmed = true;
        for (auto& h : l.held) {
          if (h.seq == seq) {
            confirm(l, h, true);
            break;
          }
        }
      }
      while (!l.held.empty() && l.held.front().confirmed)
        l.held.pop_front();
      return;
    case srtla::Kind::kKeepalive:
      if (p.ms) {
        for (const auto& [ts, at] : l.pings) {
          if (ts != *p.ms)
            continue;
          const auto sample = duration_cast<microseconds>(now - at);
          l.srtt = l.have_rtt ? (l.srtt * 7 + sample) / 8 : sample;
          l.have_rtt = true;
          break;
        }
      }
      return;
    case srtla::Kind::kReg2:
      // The receiver made our group: the first half is ours, the second its own.
      if (!have_group &&
          std::equal(p.group.begin(), p.group.begin() + srtla::kGroupIdBytes / 2, group.begin())) {
        group = p.group;
        have_group = true;
        spdlog::info("srtla: the receiver made the group; registering every link");
        for (auto& other : links) {
          other->reg = Link::Reg::kRegistering;
          other->last_reg_sent = now;
          sendOn(*other, srtla::reg2(group));
        }
      }
      return;
    case srtla::Kind::kReg3:
      if (l.reg != Link::Reg::kUp && have_group) {
        l.reg = Link::Reg::kUp;
        l.last_error.clear();
        ++l.registrations;
        l.pings.clear();
        spdlog::info("link {}: registered with the SRTLA receiver", l.spec.text);
        scheduler->setLinkState(l.id, LinkState::kUp, now);
      }
      return;
    case srtla::Kind::kRegErr:
      l.last_error =
          "the SRTLA receiver refused the link (REG_ERR: its address is in another "
          "group, or the receiver's limits are reached)";
      if (l.reg == Link::Reg::kUp)
        linkDown(l, l.last_error, now);
      l.reg = Link::Reg::kNone;
      return;
    case srtla::Kind::kRegNgp:
      if (have_group) {
        spdlog::warn("srtla: the receiver does not know the group (restarted?): registering anew");
        have_group = false;
        for (auto& other : links) {
          if (other->reg == Link::Reg::kUp)
            linkDown(*other, "the receiver forgot the group", now);
          other->reg = Link::Reg::kNone;
        }
        group = randomGroupId();
      }
      return;
    case srtla::Kind::kReg1:
    case srtla::Kind::kRegNak:
      return;
  }
}

void SrtlaSender::Relay::onSrtAck(std::uint32_t ack, Clock::time_point /*now*/) {
  if (!have_srt_ack || seqBefore(srt_acked_below, ack)) {
    srt_acked_below = ack;
    have_srt_ack = true;
  }
  for (auto& l : links) {
    for (auto& h : l->held) {
      if (seqBefore(h.seq, ack))
        confirm(*l, h, false);
    }
    while (!l->held.empty() && l->held.front().confirmed)
      l->held.pop_front();
  }
}

void SrtlaSender::Relay::linkDown(Link& l, const std::string& why, Clock::time_point now) {
  spdlog::warn("link {}: {}; registering it again", l.spec.text, why);
  l.reg = l.reg == Link::Reg::kUp ? Link::Reg::kRegistering : l.reg;
  l.last_error = why;
  scheduler->setLinkState(l.id, LinkState::kDown, now);
  l.held.clear();
  l.held_bytes = l.held_packets = 0;
}

void SrtlaSender::Relay::housekeeping(Clock::time_point now) {
  releaseHeldBack(now);
  const std::uint64_t now_ms =
      static_cast<std::uint64_t>(duration_cast<milliseconds>(now.time_since_epoch()).count());
  if (!have_group && !links.empty() && now - links[reg1_link]->last_reg_sent >= kRegRetry) {
    // One link asks for the group; after two tries without an answer the next one does.
    if (reg1_tries >= 2) {
      links[reg1_link]->last_error = "no answer to SRTLA registration (REG1)";
      reg1_link = (reg1_link + 1) % links.size();
      reg1_tries = 0;
    }
    Link& l = *links[reg1_link];
    l.reg = Link::Reg::kRegistering;
    l.last_reg_sent = now;
    ++reg1_tries;
    sendOn(l, srtla::reg1(group));
  }
  for (auto& lp : links) {
    Link& l = *lp;
    if (have_group && l.reg != Link::Reg::kUp && now - l.last_reg_sent >= kRegRetry) {
      if (l.reg == Link::Reg::kRegistering && l.last_reg_sent != Clock::time_point{} &&
          l.last_error.empty()) {
        l.last_error = "no answer to SRTLA registration (REG2)";
      }
      l.reg = Link::Reg::kRegistering;
      l.last_reg_sent = now;
      sendOn(l, srtla::reg2(group));
    }
    if (l.reg == Link::Reg::kUp) {
      if (now - l.last_heard >= config.link_timeout) {
        linkDown(l,
                 "nothing heard from the receiver for " +
                     std::to_string(config.link_timeout.count()) + " ms",
                 now);
        continue;
      }
      if (now - l.last_keepalive >= config.keepalive_interval) {
        l.last_keepalive = now;
        l.pings.emplace_back(now_ms, now);
        while (l.pings.size() > 64)
          l.pings.pop_front();
        sendOn(l, srtla::keepalive(now_ms));
      }
    }
    // Capacity: the confirmed rate per slot, the highest over the window.
    if (now - l.slot_start >= kRateSlot) {
      const double secs = duration_cast<microseconds>(now - l.slot_start).count() / 1e6;
      if (l.slot_start != Clock::time_point{}) {
        l.slots.push_back(static_cast<std::uint64_t>(l.slot_bytes * 8 / secs));
        while (l.slots.size() > kRateSlots)
          l.slots.pop_front();
      }
      l.slot_bytes = 0;
      l.slot_start = now;
      l.capacity_bps = l.slots.empty()
                           ? 0
                           : static_cast<double>(*std::max_element(l.slots.begin(), l.slots.end()));
    }
  }
  prune(now);
}

void SrtlaSender::Relay::feedback(Clock::time_point now) {
  for (auto& lp : links) {
    Link& l = *lp;
    if (l.reg != Link::Reg::kUp)
      continue;
    sched::LinkFeedback st;
    st.rtt = l.have_rtt ? l.srtt : microseconds(0);
    st.send_buffer_bytes = l.held_bytes;
    st.send_buffer_packets = l.held_packets;
    st.flight_packets = l.held_packets;
    for (const auto& h : l.held) {
      if (!h.confirmed) {
        st.send_buffer_time = duration_cast<microseconds>(now - h.sent_at);
        break;
      }
    }
    st.lost_packets_total = l.lost;
    st.bandwidth_bps = l.capacity_bps;
    scheduler->onLinkStats(l.id, st, now);
  }
  for (const sched::Resend& rs : scheduler->takeResends(now)) {
    auto it = stored.find(rs.packet.seq);
    if (it == stored.end())
      continue;
    const auto& d = it->second.datagram;
    const std::uint32_t seq = be32(d.data()) & 0x7FFFFFFFu;
    for (sched::LinkId id : rs.links)
      carry(*links[id], d, seq, now);
    ++resent;
  }
}

void SrtlaSender::Relay::prune(Clock::time_point now) {
  while (!stored_order.empty() && stored_order.front().first < now) {
    stored.erase(stored_order.front().second);
    stored_order.pop_front();
  }
  const auto keep = config.srt.latency + kSeqMemory;
  while (!seq_order.empty() && now - seq_order.front().first > keep) {
    auto it = seqs.find(seq_order.front().second);
    if (it != seqs.end() && now - it->second.first_sent > keep)
      seqs.erase(it);
    seq_order.pop_front();
  }
  // A held copy older than the memory is confirmed by nobody any more (its SRT ACK
  // came while the link was down): forget it.
  for (auto& l : links) {
    while (!l->held.empty() &&
           (l->held.front().confirmed || now - l->held.front().sent_at > keep)) {
      if (!l->held.front().confirmed) {
        l->held_bytes -= l->held.front().bytes;
        --l->held_packets;
      }
      l->held.pop_front();
    }
  }
}

}  // namespace bondcast::sender
