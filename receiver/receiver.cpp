// SPDX-License-Identifier: MPL-2.0
#include "receiver/receiver.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <srt/access_control.h>

#include <algorithm>
#include <array>
#include <optional>
#include <thread>

#include <arpa/inet.h>

#include <cstring>

#include "common/histogram.h"
#include "common/srt/adaptive_link.h"
#include "common/srt/link_stats.h"
#include "common/uri.h"
#include "common/wire.h"
#include "playout/merge.h"

namespace bondcast::receiver {

using playout::Merger;

namespace {

std::int64_t steadyMicros(Receiver::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// libsrt's srctime of a received message, on the steady clock.
std::int64_t srtTimeToSteadyMicros(std::int64_t srctime) {
  if (srctime <= 0)
    return 0;
  return srctime - srt_time_now() + steadyMicros(Receiver::Clock::now());
}

// SRTO_LOSSMAXTTL of an SRTLA group's connection: how many later packets may come before a
// missing one is reported lost (its links differ in delay).
constexpr int kSrtlaLossMaxTtl = 40;

// Where a handshake came from, for the log: "127.0.0.1:5000", "[::1]:5000".
std::string peerText(const sockaddr* peer) {
  return srt::addressText(peer);
}

// A refusal libsrt made itself (SRT_REJ_*, counted from its log by srt::rejectedHandshakes):
// its key in the stats' "refused" and what the log says of it. The listen callback's own
// refusals carry SRT_REJX_* reasons, which libsrt does not count there.
std::pair<std::string, std::string> libsrtRefusal(int reason) {
  switch (reason) {
    case SRT_REJ_BADSECRET:
      return {"wrong_passphrase", "a caller's passphrase is not the one of its stream or port"};
    case SRT_REJ_UNSECURE:
      return {"one_sided_passphrase",
              "only one side has a passphrase (the caller has none and its stream or port "
              "needs one, or the other way round)"};
    default:
      return {"other", fmt::format("libsrt refused it: {}", srt_rejectreason_str(reason))};
  }
}

nlohmann::json percentilesMs(const Histogram& h) {
  auto ms = [&](double q) { return static_cast<double>(h.quantile(q)) / 1000.0; };
  return {{"count", h.count()}, {"p01", ms(0.01)}, {"p10", ms(0.1)},         {"p50", ms(0.5)},
          {"p90", ms(0.9)},     {"p99", ms(0.99)}, {"max", h.max() / 1000.0}};
}

}  // namespace

struct Receiver::Stream {
  srt::Socket sock;  // group or single socket
  bool is_group = false;
  std::string stream_id;
  std::string name;                // streamName(stream_id)
  QueuedOutput* output = nullptr;  // owned by outputs_
  bool active = true;
  std::uint64_t payloads = 0;
  std::uint64_t bytes = 0;
  std::uint64_t output_errors = 0;
  std::vector<srt::LinkStats> last_links;
  // The connection ended (a read failed) at broken_at; libsrt still delivers what it
  // received and had not yet played out (TSBPD) for up to its latency, so the stream
  // reads on until broken_at + drain_for (readFrom).
  std::optional<Receiver::Clock::time_point> broken_at;
  std::string end_reason;
  std::chrono::milliseconds drain_for{0};
};

// What one link of an adaptive session brought.
struct LinkCounters {
  bool connected = false;
  std::uint64_t connections = 0;
  std::uint64_t packets = 0;  // with a valid header of this session
  std::uint64_t bytes = 0;
  std::uint64_t duplicates = 0;  // copies the merge already had
  std::uint64_t late = 0;        // arrived after the merge gave up on them
  std::uint64_t resent = 0;      // flagged re-sent by the sender
  std::uint64_t bad_headers = 0;
  std::uint64_t foreign_session = 0;
  std::uint64_t receipts = 0;          // receipts sent on it
  std::uint64_t receipts_refused = 0;  // ... that its send buffer refused
  srt::LinkStats srt;
};

struct Receiver::Session {
  Session(std::uint32_t session_id, Merger::Options merge) : id(session_id), merger(merge) {}
  std::uint32_t id;
  std::string name;
  QueuedOutput* output = nullptr;  // owned by outputs_
  Merger merger;
  bool ended = false;
  std::uint64_t output_errors = 0;
  // How long before its playout time each packet written out had arrived (one clock:
  // honest across hosts, unlike output time - source time).
  Histogram margin_us;
  std::map<std::uint32_t, LinkCounters> links;
  std::uint64_t receipt_rounds = 0;  // sendReceipts() calls that found the merge started
  bool active() const {
    return !ended && std::any_of(links.begin(), links.end(),
                                 [](const auto& l) { return l.second.connected; });
  }
};

struct Receiver::LinkConn {
  srt::Socket sock;
  Session* session = nullptr;  // owned by sessions_
  std::uint32_t link = 0;
  bool receipts = false;  // its sender reads receipts (bcr=1)
};

Receiver::Receiver(ReceiverOptions o) : options_(std::move(o)) {}

Result<ListenUri> parseListenUri(const std::string& text) {
  auto uri = parseUri(text);
  if (!uri)
    return Error{"listen: " + uri.error().message};
  if (uri->scheme != "srt" && uri->scheme != "srtla")
    return Error{"listen '" + maskSecrets(text) +
                 "': scheme must be srt:// or srtla:// (srt://[ADDR]:PORT)"};
  auto options = takeSrtUriOptions(*uri, SrtUriRole::kListener);
  if (!options)
    return Error{"listen: " + options.error().message};
  return ListenUri{*uri, *options, uri->scheme == "srtla"};
}

Receiver::~Receiver() {
  // Close accepted sockets before listeners, listeners before the callbacks' target.
  srtla_.clear();  // no more packets towards the listeners
  streams_.clear();
  links_.clear();
  listeners_.clear();
}

Result<std::unique_ptr<Receiver>> Receiver::create(ReceiverOptions options) {
  if (options.listen.empty())
    return Error{"at least one --listen is needed"};
  auto spec = options.output_factory
                  ? Result<OutputSpec>(OutputSpec{OutputKind::kStdout, "element", false})
                  : parseOutputSpec(options.output);
  if (!spec)
    return spec.error();
  auto allow = AllowList::parse(options.allow_streams);
  if (!allow) {
    return allow.error();
  }
  std::unique_ptr<Receiver> self(new Receiver(std::move(options)));
  self->output_spec_ = *spec;
  self->allow_ = std::move(*allow);
  if (!self->allow_.empty()) {
    std::string names;
    for (const AllowedStream& entry : self->allow_.streams()) {
      names += fmt::format("{}'{}'{}", names.empty() ? "" : ", ", entry.name,
                           entry.passphrase.empty() ? "" : " (own passphrase)");
    }
    spdlog::info("taking only the streams {}; others are refused", names);
  }
  if (!self->options_.packet_log.empty()) {
    auto log = PacketLog::open(self->options_.packet_log);
    if (!log)
      return log.error();
    self->packet_log_ = std::move(*log);
  }
  for (const auto& text : self->options_.listen) {
    auto uri = parseListenUri(text);
    if (!uri)
      return uri.error();
    auto addr = srt::resolve(uri->uri.host, uri->uri.port, true);
    if (!addr)
      return Error{"listen '" + maskSecrets(text) + "': " + addr.error().message};
    // SRTLA: the relay takes the public port; its groups' SRT connections come to a
    // listener of our own on loopback.
    const srt::SockAddr public_addr = *addr;
    if (uri->srtla) {
      addr = srt::resolve("127.0.0.1", 0, true);
      if (!addr)
        return Error{"listen '" + maskSecrets(text) + "': " + addr.error().message};
    }
    srt::Socket l(srt_create_socket());
    SRTSOCKET s = l.get();
    // The command line's options, and what this listen URI says instead (accepted
    // connections inherit them: a passphrase here refuses callers without it).
    srt::CommonOptions common = srt::withUri(self->options_.srt, uri->srt);
    common.stream_id.clear();
    if (auto st = srt::applyCommonOptions(s, common, "listen '" + maskSecrets(text) + "'"); !st)
      return Error{"listen '" + maskSecrets(text) + "': " + st.error().message};
    int yes = 1;
    bool no = false;
    if (auto st = srt::setOption(s, SRTO_GROUPCONNECT, yes, "group connect"); !st) {
      return st.error();
    }
    if (auto st = srt::setOption(s, SRTO_RCVSYN, no, "non-blocking"); !st) {
      return st.error();
    }
    if (uri->srtla) {
      // One connection's packets come over several links: reordered, not lost.
      int reorder = kSrtlaLossMaxTtl;
      if (auto st = srt::setOption(s, SRTO_LOSSMAXTTL, reorder, "reorder tolerance"); !st)
        return st.error();
      if (auto st = srt::setOption(s, SRTO_NAKREPORT, no, "periodic NAK reports off"); !st)
        return st.error();
    }
    if (auto st = srt::bindSrt(s, *addr); !st)
      return Error{"listen '" + maskSecrets(text) + "': " + st.error().message};
    if (srt_listen(s, 16) == SRT_ERROR)
      return Error{srt::lastError("listen on " + text)};
    srt_listen_callback(s, &Receiver::onListen, self.get());
    if (auto st = self->epoll_.add(s, SRT_EPOLL_IN | SRT_EPOLL_ERR); !st)
      return st.error();
    if (uri->srtla) {
      sockaddr_storage ss{};
      int len = sizeof ss;
      srt_getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len);
      srt::SockAddr internal;
      internal.storage = ss;
      internal.len = len;
      auto relay = SrtlaRelay::create(public_addr, internal);
      if (!relay)
        return Error{"listen '" + maskSecrets(text) + "': " + relay.error().message};
      self->listen_ports_.push_back((*relay)->port());
      self->srtla_.push_back(std::move(*relay));
    } else {
      self->listen_ports_.push_back(srt::boundPort(s));
    }
    self->listeners_.push_back(std::move(l));
  }
  return self;
}

std::vector<std::uint16_t> Receiver::ports() const {
  return listen_ports_;
}

// Runs on a libsrt thread for every incoming handshake (each group member too).
// A malformed link stream id, a stream not on the allow-list and a link of an ended
// session are refused; a listed stream's own passphrase is set on `ns`, whose handshake
// libsrt then checks against it (after this returns: a wrong one is refused by libsrt).
// Outputs that carry one stream refuse a second stream id while one is active.
// Nothing here blocks: mu_ is held only to look at the streams, never while logging.
int Receiver::onListen(void* opaque, SRTSOCKET ns, int, const sockaddr* peer,
                       const char* streamid) {
  auto* self = static_cast<Receiver*>(opaque);
  const std::string sid = streamid ? streamid : "";
  const std::string from = peerText(peer);
  const auto link = wire::parseLinkStreamId(sid);
  if (!link.error.empty()) {
    ++self->refused_malformed_;
    return self->refuse(ns, SRT_REJX_BAD_REQUEST, "malformed_stream_id",
                        fmt::format("{} from {}", link.error, from));
  }
  std::string name = streamName(sid);
  if (!self->allow_.empty()) {
    const AllowedStream* allowed = self->allow_.find(streamResource(sid));
    if (allowed == nullptr) {
      ++self->refused_unknown_stream_;
      return self->refuse(ns, SRT_REJX_FORBIDDEN, "unknown_stream",
                          fmt::format("stream '{}' from {} is not in --allow-stream", name, from));
    }
    if (!allowed->passphrase.empty()) {
      if (auto st = srt::setOption(ns, SRTO_PASSPHRASE, allowed->passphrase, "its passphrase");
          !st) {
        return self->refuse(ns, SRT_REJX_ISE, "internal_error",
                            fmt::format("stream '{}': {}", name, st.error().message));
      }
    }
  }
  if (link.identity) {
    if (auto st = srt::applyAdaptiveLinkReceiverOptions(ns); !st) {
      return self->refuse(ns, SRT_REJX_ISE, "internal_error",
                          fmt::format("link {} of session {:08x}: {}", link.identity->link,
                                      link.identity->session, st.error().message));
    }
  }
  bool ended_session = false;
  std::optional<std::string> busy_with;  // the stream a one-stream output carries
  {
    std::lock_guard lock(self->mu_);
    if (link.identity) {
      auto it = self->sessions_.find(link.identity->session);
      ended_session = it != self->sessions_.end() && it->second->ended;
    }
    if (!ended_session && !self->output_spec_.per_stream) {
      for (const auto& [id, s] : self->streams_) {
        if (s->active && s->name != name) {
          busy_with = s->name;
        }
      }
      for (const auto& [id, s] : self->sessions_) {
        if (s->active() && s->name != name) {
          busy_with = s->name;
        }
      }
    }
  }
  if (ended_session) {
    ++self->refused_ended_session_;
    return self->refuse(ns, SRT_REJX_CONFLICT, "ended_session",
                        fmt::format("link {} of session {:08x} from {}: that session has ended",
                                    link.identity->link, link.identity->session, from));
  }
  if (busy_with) {
    ++self->refused_output_busy_;
    return self->refuse(ns, SRT_REJX_CONFLICT, "output_busy",
                        fmt::format("stream '{}' from {}: output {} already carries stream '{}'",
                                    name, from, self->output_spec_.text, *busy_with));
  }
  return 0;
}

int Receiver::refuse(SRTSOCKET ns, int reason, std::string_view kind, std::string detail) {
  srt_setrejectreason(ns, reason);
  logRefusals(kind, 1, std::move(detail));
  return -1;
}

void Receiver::logRefusals(std::string_view kind, std::uint64_t count, std::string detail) {
  std::optional<std::string> line;
  {
    std::lock_guard lock(refusal_mu_);
    line = refusal_log_.refused(kind, count, std::move(detail), Clock::now());
  }
  if (line) {
    spdlog::warn("{}", *line);
  }
}

void Receiver::logRefusalsDue() {
  std::vector<std::string> lines;
  {
    std::lock_guard lock(refusal_mu_);
    const auto now = Clock::now();
    for (int reason = 0; reason < SRT_REJ_E_SIZE; ++reason) {
      const std::uint64_t count = srt::rejectedHandshakes(reason);
      std::uint64_t& seen = libsrt_refused_[static_cast<std::size_t>(reason)];
      if (count == seen) {
        continue;
      }
      const auto& [kind, detail] = libsrtRefusal(reason);
      if (auto line = refusal_log_.refused(kind, count - seen, detail, now)) {
        lines.push_back(std::move(*line));
      }
      seen = count;
    }
    for (auto& line : refusal_log_.due(now)) {
      lines.push_back(std::move(line));
    }
  }
  for (const auto& line : lines) {
    spdlog::warn("{}", line);
  }
}

// Every output is written by a thread of its own (QueuedOutput): one that blocks drops
// its own stream's data, and holds up no other stream and no link.
Result<QueuedOutput*> Receiver::outputFor(const std::string& name) {
  auto it = outputs_.find(name);
  if (it != outputs_.end())
    return it->second.get();
  auto out =
      options_.output_factory ? options_.output_factory(name) : openOutput(output_spec_, name);
  if (!out)
    return out.error();
  auto queued = std::make_unique<QueuedOutput>(std::move(*out), QueuedOutput::Options{});
  QueuedOutput* raw = queued.get();
  outputs_.emplace(name, std::move(queued));
  spdlog::info("stream '{}' -> {}", name, raw->describe());
  return raw;
}

// One connection per readiness event: a second srt_accept() with nothing pending makes
// libsrt log an error.
void Receiver::acceptFrom(SRTSOCKET listener) {
  {
    sockaddr_storage peer{};
    int len = sizeof peer;
    SRTSOCKET s = srt_accept(listener, reinterpret_cast<sockaddr*>(&peer), &len);
    if (s == SRT_INVALID_SOCK)
      return;
    auto stream = std::make_unique<Stream>();
    stream->sock.reset(s);
    stream->is_group = (s & SRTGROUP_MASK) != 0;
    bool no = false;
    if (auto st = srt::setOption(s, SRTO_RCVSYN, no, "non-blocking"); !st) {
      spdlog::warn("refused a connection: {}", st.error().message);
      return;  // closes the socket: a blocking read would stall every stream
    }
    char sid[513] = {};
    int sid_len = sizeof sid - 1;
    SRTSOCKET member = s;
    if (stream->is_group) {
      SRT_SOCKGROUPDATA gd[8];
      size_t n = 8;
      if (srt_group_data(s, gd, &n) != SRT_ERROR && n > 0)
        member = gd[0].id;
    }
    if (srt_getsockflag(member, SRTO_STREAMID, sid, &sid_len) == SRT_ERROR)
      sid_len = 0;
    stream->stream_id.assign(sid, static_cast<std::size_t>(std::max(sid_len, 0)));
    if (!stream->is_group) {
      if (auto link = wire::parseLinkStreamId(stream->stream_id); link.identity) {
        acceptLink(std::move(stream->sock), stream->stream_id, *link.identity);
        return;
      }
    }
    int latency_ms = 0;
    int latency_len = sizeof latency_ms;
    if (srt_getsockflag(member, SRTO_RCVLATENCY, &latency_ms, &latency_len) == SRT_ERROR)
      latency_ms = static_cast<int>(options_.srt.latency.count());
    stream->drain_for = std::chrono::milliseconds(latency_ms) + kDrainMargin;
    stream->name = streamName(stream->stream_id);
    auto out = outputFor(stream->name);
    if (!out) {
      spdlog::error("stream '{}': {}", stream->name, out.error().message);
      return;  // closes the socket: the sender sees the connection end
    }
    stream->output = *out;
    spdlog::info("accepted {} stream '{}'", stream->is_group ? "group" : "single-link",
                 stream->name);
    if (auto st = epoll_.add(s, SRT_EPOLL_IN | SRT_EPOLL_ERR); !st) {
      spdlog::warn("stream '{}': {}; closing it", stream->name, st.error().message);
      return;  // nothing would ever read it
    }
    std::lock_guard lock(mu_);
    streams_.emplace(s, std::move(stream));
  }
}

void Receiver::readFrom(Stream& s) {
  char buf[1500];
  for (;;) {
    SRT_MSGCTRL mc = srt_msgctrl_default;
    int n = srt_recvmsg2(s.sock.get(), buf, sizeof buf, &mc);
    if (n > 0) {
      ++s.payloads;
      s.bytes += static_cast<std::uint64_t>(n);
      std::lock_guard out_lock(out_mu_);
      if (packet_log_) {
        packet_log_->delivered(steadyMicros(Clock::now()), s.name, -1,
                               static_cast<std::uint64_t>(mc.msgno),
                               srtTimeToSteadyMicros(mc.srctime), static_cast<std::size_t>(n));
      }
      if (s.output) {
        auto st = s.output->write(
            {reinterpret_cast<const std::uint8_t*>(buf), static_cast<std::size_t>(n)});
        if (!st) {
          if (s.output_errors++ == 0)
            spdlog::error("{}", st.error().message);
        }
      }
      continue;
    }
    if (n == SRT_ERROR && srt_getlasterror(nullptr) == SRT_EASYNCRCV)
      return;
    // The connection ended. libsrt 1.5.1 fails the read at once, while it still holds
    // packets it received but whose play time (TSBPD) has not come: a sender that closes
    // right after its last packet (GStreamer's srtsink does) would lose the last latency's
    // worth (0.24 s of it in tests/e2e/caller_close_test.cpp). They become readable at
    // their time: read on until then.
    const auto now = Clock::now();
    if (!s.broken_at) {
      s.broken_at = now;
      s.end_reason = n == 0 ? "closed" : srt_getlasterror_str();
      // A broken socket is always ready: reported once, then polled (pollStreams). Still
      // subscribed: libsrt logs an internal error when it updates a removed one's events.
      if (auto st = epoll_.update(s.sock.get(), SRT_EPOLL_IN | SRT_EPOLL_ERR | SRT_EPOLL_ET); !st) {
        spdlog::debug("stream '{}': {}", s.name, st.error().message);
      }
      spdlog::debug(
          "stream '{}': connection ended ({}); reading what libsrt still holds for "
          "{} ms",
          s.name, s.end_reason, s.drain_for.count());
    }
    if (now - *s.broken_at >= s.drain_for) {
      endStream(s, s.end_reason);
    }
    return;
  }
}

void Receiver::endStream(Stream& s, const std::string& why) {
  spdlog::info("stream '{}' ended ({}): {} payloads, {} bytes", s.name, why, s.payloads, s.bytes);
  epoll_.remove(s.sock.get());
  std::lock_guard lock(mu_);
  s.active = false;
  auto it = streams_.find(s.sock.get());
  if (it != streams_.end()) {
    auto owned = std::move(it->second);
    streams_.erase(it);
    owned->sock.reset();
    ended_.push_back(std::move(owned));
  }
}

// ---- adaptive sessions ----

// A link of an adaptive session: the first link of a new session creates it; a new
// session for a stream that another session still carries takes its output over (the
// sender was restarted), and the old session ends.
void Receiver::acceptLink(srt::Socket sock, const std::string& stream_id,
                          const wire::LinkIdentity& identity) {
  const std::uint32_t session = identity.session;
  const std::uint32_t link = identity.link;
  const SRTSOCKET s = sock.get();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session);
  if (it == sessions_.end()) {
    const std::string name = streamName(stream_id);
    for (auto& [id, other] : sessions_) {
      if (!other->ended && other->name == name)
        endSession(*other, "a newer session took over");
    }
    auto out = outputFor(name);
    if (!out) {
      spdlog::error("stream '{}': {}", name, out.error().message);
      to_close_.push_back(std::move(sock));  // the sender sees the connection end
      return;
    }
    // As SRT's handshake does: the larger of the receiver's latency (the listener's, as
    // this link's socket inherited it) and the sender's.
    int listener_ms = static_cast<int>(options_.srt.latency.count());
    int len = sizeof listener_ms;
    if (srt_getsockflag(sock.get(), SRTO_RCVLATENCY, &listener_ms, &len) == SRT_ERROR) {
      listener_ms = static_cast<int>(options_.srt.latency.count());  // as configured
    }
    const auto latency = std::max(std::chrono::milliseconds(listener_ms),
                                  std::chrono::milliseconds(identity.latency_ms));
    auto created = std::make_unique<Session>(session, playout::sessionOptions(latency));
    created->name = name;
    created->output = *out;
    spdlog::info("adaptive session {:08x}: stream '{}' (playout latency {} ms)", session, name,
                 latency.count());
    it = sessions_.emplace(session, std::move(created)).first;
  } else if (it->second->ended) {
    ++refused_ended_session_;
    to_close_.push_back(std::move(sock));
    return;
  }
  Session& sess = *it->second;
  LinkCounters& counters = sess.links[link];
  counters.connected = true;
  ++counters.connections;
  counters.srt.name = "link " + std::to_string(link);
  spdlog::info("adaptive session {:08x}: link {} connected", session, link);
  auto conn = std::make_unique<LinkConn>();
  conn->sock = std::move(sock);
  conn->session = &sess;
  conn->link = link;
  conn->receipts = identity.receipts;
  // Receipts are sent from the receiver thread: a full send buffer must not hold it.
  if (auto st = srt::setOption(s, SRTO_SNDSYN, false, "non-blocking send"); !st) {
    spdlog::warn("adaptive session {:08x}: link {}: {}; no receipts on it", session, link,
                 st.error().message);
    conn->receipts = false;
  }
  if (auto st = epoll_.add(s, SRT_EPOLL_IN | SRT_EPOLL_ERR); !st) {
    spdlog::warn("adaptive session {:08x}: link {}: {}; closing it", session, link,
                 st.error().message);
    return;  // nothing would ever read it; the sender reconnects it
  }
  links_.emplace(s, std::move(conn));
}

// Every message waiting on the link: checked, counted, merged; then whatever the merge
// can release goes out. Messages are read in batches without mu_ (libsrt calls
// onListen, which takes mu_, from its own threads).
void Receiver::readFromLink(LinkConn& c) {
  constexpr std::size_t kBatch = 64;
  struct Message {
    std::array<std::uint8_t, 1500> bytes;
    std::size_t size;
    Clock::time_point at;
  };
  static thread_local std::vector<Message> batch(kBatch);
  for (bool more = true; more;) {
    std::size_t count = 0;
    std::string ended;
    while (count < kBatch) {
      SRT_MSGCTRL mc = srt_msgctrl_default;
      Message& m = batch[count];
      const int n = srt_recvmsg2(c.sock.get(), reinterpret_cast<char*>(m.bytes.data()),
                                 static_cast<int>(m.bytes.size()), &mc);
      if (n > 0) {
        m.size = static_cast<std::size_t>(n);
        m.at = Clock::now();
        ++count;
        continue;
      }
      more = false;
      if (n == 0 || srt_getlasterror(nullptr) != SRT_EASYNCRCV)
        ended = n == 0 ? "closed" : srt_getlasterror_str();
      break;
    }
    std::lock_guard lock(mu_);
    Session& sess = *c.session;
    LinkCounters& counters = sess.links[c.link];
    for (std::size_t i = 0; i < count; ++i) {
      const wire::ParseResult r = wire::parse({batch[i].bytes.data(), batch[i].size});
      if (!r.parsed) {
        if (counters.bad_headers++ == 0) {
          spdlog::warn("session {:08x} link {}: dropped a packet: {}", sess.id, c.link,
                       wire::toString(r.error));
        }
        continue;
      }
      const wire::Header& h = r.parsed->header;
      if (h.session != sess.id) {
        if (counters.foreign_session++ == 0) {
          spdlog::warn("session {:08x} link {}: dropped a packet of session {:08x}", sess.id,
                       c.link, h.session);
        }
        continue;
      }
      ++counters.packets;
      counters.bytes += r.parsed->payload.size();
      if (h.flags & wire::kFlagResent)
        ++counters.resent;
      const auto verdict = sess.merger.push(h.seq, h.source_time_us, static_cast<int>(c.link),
                                            r.parsed->payload, batch[i].at);
      if (verdict == Merger::Verdict::kDuplicate)
        ++counters.duplicates;
      else if (verdict == Merger::Verdict::kLate)
        ++counters.late;
    }
    if (!ended.empty())
      endLink(c, ended);
    playout_cv_.notify_one();
  }
}

// mu_ held. The socket is closed by run() without mu_ (closing removes it from the
// epoll); the LinkConn is erased there too.
void Receiver::endLink(LinkConn& c, const std::string& why) {
  spdlog::info("adaptive session {:08x}: link {} ended ({})", c.session->id, c.link, why);
  c.session->links[c.link].connected = false;
  to_close_.push_back(std::move(c.sock));
}

// A receipt goes at most this long after what it says: re-sending it later is of no use,
// the next one says more.
constexpr std::chrono::milliseconds kReceiptTtl{100};

// Encoded under mu_, sent without it: libsrt calls onListen, which takes mu_, from its own
// threads, and srt_sendmsg2 takes libsrt's locks (as srt_close does: run()).
void Receiver::sendReceipts() {
  struct Send {
    SRTSOCKET sock;
    Session* session;  // sessions_ never lets one go
    std::uint32_t link;
    std::size_t receipt;  // index into `encoded`
    bool sent = false;
  };
  std::vector<std::vector<std::uint8_t>> encoded;
  std::vector<Send> sends;
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    wire::Receipt r;
    for (auto& [id, sess] : sessions_) {
      if (sess->ended || !sess->merger.receipt(r.below, r.received, wire::kMaxReceiptBits)) {
        continue;
      }
      r.session = sess->id;
      const std::optional<int> fastest =
          sess->merger.clock().fastestLinkHeardWithin(now, playout::kReceiptLinkAlive);
      const std::uint64_t round = sess->receipt_rounds++;
      bool any = false;
      for (auto& [sock, c] : links_) {
        if (c->session == sess.get() && c->receipts && c->sock.valid() &&
            playout::receiptGoesOn(static_cast<int>(c->link), fastest, round)) {
          sends.push_back({sock, sess.get(), c->link, encoded.size()});
          any = true;
        }
      }
      if (any) {
        wire::encodeReceipt(r, encoded.emplace_back());
      }
    }
  }
  for (Send& send : sends) {
    const std::vector<std::uint8_t>& bytes = encoded[send.receipt];
    SRT_MSGCTRL mc = srt::adaptiveMessageControl(kReceiptTtl);
    send.sent = srt_sendmsg2(send.sock, reinterpret_cast<const char*>(bytes.data()),
                             static_cast<int>(bytes.size()), &mc) != SRT_ERROR;
  }
  std::lock_guard lock(mu_);
  for (const Send& send : sends) {
    LinkCounters& counters = send.session->links[send.link];
    ++(send.sent ? counters.receipts : counters.receipts_refused);
  }
}

// mu_ held. What the session's merge releases at `now` (everything, with `flush`) goes
// to pending_, for writePending() to write without mu_.
void Receiver::releaseSession(Session& s, Clock::time_point now, bool flush) {
  auto deliver = [&](const Merger::Packet& p) {
    s.margin_us.add(static_cast<std::uint64_t>(
        std::max<std::int64_t>(0, steadyMicros(p.playout) - steadyMicros(p.arrival))));
    pending_.push_back({&s, p.seq, p.link, p.source_time_us, 0, p.payload});
  };
  auto lost = [&](std::uint64_t first, std::uint64_t count) {
    spdlog::debug("session {:08x}: gave up on {} packet(s) from {}", s.id, count, first);
    pending_.push_back({&s, first, -1, 0, count, {}});
  };
  if (flush)
    s.merger.flush(deliver, lost);
  else
    s.merger.release(now, deliver, lost);
}

// Without mu_: writes what the merges released, in order, stamped with the time it is
// written out (the packet log's arrival_us).
void Receiver::writePending(std::vector<PendingWrite>& pending) {
  std::lock_guard out_lock(out_mu_);
  for (PendingWrite& w : pending) {
    Session& s = *w.session;
    const std::int64_t now_us = steadyMicros(Clock::now());
    if (w.lost_count > 0) {
      if (packet_log_)
        packet_log_->lost(now_us, s.name, w.seq, w.lost_count);
      continue;
    }
    if (packet_log_) {
      packet_log_->delivered(now_us, s.name, w.link, w.seq,
                             static_cast<std::int64_t>(w.source_time_us), w.payload.size());
    }
    if (s.output) {
      if (auto st = s.output->write(w.payload); !st && s.output_errors++ == 0)
        spdlog::error("{}", st.error().message);
    }
  }
  pending.clear();
}

// The playout thread: sleeps until the earliest playout time of any session (libsrt's
// epoll wakes at best every 10 ms when idle: too coarse for an output that must follow
// the source's spacing), releases what is due and writes it out without mu_. The
// receiver thread wakes it when packets arrive (a packet may fill the head's gap).
void Receiver::playoutLoop() {
  std::vector<PendingWrite> writing;
  std::unique_lock lock(mu_);
  while (!playout_stop_) {
    const auto now = Clock::now();
    std::optional<Clock::time_point> next;
    for (auto& [id, sess] : sessions_) {
      if (sess->ended)
        continue;
      releaseSession(*sess, now, false);
      if (auto at = sess->merger.nextDeadline(); at && (!next || *at < *next))
        next = *at;
    }
    writing.swap(pending_);
    if (!writing.empty()) {
      lock.unlock();
      writePending(writing);
      lock.lock();
      continue;  // time passed while writing: look again
    }
    if (next)
      playout_cv_.wait_until(lock, *next);
    else
      playout_cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

// mu_ held. Delivers what the session still holds and closes its links; links that
// name it later are refused.
void Receiver::endSession(Session& s, const std::string& why) {
  releaseSession(s, Clock::now(), true);
  playout_cv_.notify_one();  // to write what it held
  s.ended = true;
  for (auto& [sock, conn] : links_) {
    if (conn->session == &s && conn->sock.valid())
      to_close_.push_back(std::move(conn->sock));
  }
  for (auto& [link, counters] : s.links)
    counters.connected = false;
  const auto& st = s.merger.stats();
  spdlog::info("adaptive session {:08x} ended ({}): {} payloads, {} lost, {} duplicates dropped",
               s.id, why, st.delivered, st.lost, st.duplicates);
}

// mu_ held. The links' SRT figures are those readSrtStats() last read.
nlohmann::json Receiver::sessionJson(Session& s) {
  const auto delays = s.merger.clock().linkDelays(Clock::now());
  nlohmann::json links = nlohmann::json::array();
  for (auto& [index, c] : s.links) {
    if (!c.connected)
      c.srt.state = LinkState::kDown;
    nlohmann::json j = srt::toJson(c.srt);
    j["index"] = index;
    j["connections"] = c.connections;
    j["packets"] = c.packets;
    j["bytes"] = c.bytes;
    j["duplicates"] = c.duplicates;
    j["late"] = c.late;
    j["resent"] = c.resent;
    j["bad_headers"] = c.bad_headers;
    j["foreign_session"] = c.foreign_session;
    j["receipts"] = c.receipts;
    j["receipts_refused"] = c.receipts_refused;
    for (const auto& d : delays) {
      if (d.link == static_cast<int>(index))
        j["base_delay_ms"] = d.above_fastest.count() / 1000.0;  // over the fastest link's
    }
    links.push_back(std::move(j));
  }
  const Merger::Stats& m = s.merger.stats();
  const QueuedOutput::Counters dropped = s.output ? s.output->counters() : QueuedOutput::Counters{};
  const playout::PlayoutClock& clock = s.merger.clock();
  char session[16];
  std::snprintf(session, sizeof session, "%08x", s.id);
  std::uint64_t bad = 0, foreign = 0;
  for (const auto& [index, c] : s.links) {
    bad += c.bad_headers;
    foreign += c.foreign_session;
  }
  return {{"stream", s.name},
          {"mode", "adaptive"},
          {"session", session},
          {"active", s.active()},
          {"output", s.output ? s.output->describe() : ""},
          {"payloads", m.delivered},
          {"bytes", m.delivered_bytes},
          {"duplicates_dropped", m.duplicates},
          {"late", m.late},
          {"lost", m.lost},
          {"buffered", s.merger.buffered()},
          {"forced", m.forced},
          {"restarts", m.restarts},
          {"clock_skewed", m.clock_skewed},
          {"bad_headers", bad},
          {"foreign_session", foreign},
          {"output_errors", s.output_errors},
          {"output_dropped", dropped.dropped_payloads},
          {"output_queued_bytes", dropped.queued_bytes},
          // What the receiver can measure alone: the latency it plays out with (behind the
          // fastest link), how far its clock moved against the sender's since the start,
          // and how early packets came before their playout time.
          {"latency_ms", clock.latency().count() / 1000.0},
          {"clock_moved_ms", clock.movedUs() / 1000.0},
          {"margin_ms", percentilesMs(s.margin_us)},
          {"links", links}};
}

// What libsrt says about every link: group members, single sockets, adaptive links. Without
// mu_: libsrt calls the listen callback, which takes mu_, from its own threads, and a
// libsrt call made while holding mu_ could wait for a lock such a thread holds (issue 16).
// The receiver thread is the only one that adds or removes streams, links and a session's
// link entries, so reading them here without mu_ is safe; what this writes (last_links, a
// link's srt figures) is read under mu_ by statsJson on this same thread.
void Receiver::readSrtStats(bool clear_interval) {
  auto readStream = [&](Stream& s) {
    if (!s.active)
      return;
    std::vector<srt::LinkStats> now;
    if (s.is_group) {
      SRT_SOCKGROUPDATA gd[16];
      size_t n = 16;
      if (srt_group_data(s.sock.get(), gd, &n) == SRT_ERROR)
        n = 0;
      for (size_t i = 0; i < std::min<size_t>(n, 16); ++i) {
        srt::LinkStats ls;
        ls.name = peerText(reinterpret_cast<const sockaddr*>(&gd[i].peeraddr));
        ls.state = srt::linkStateFrom(gd[i].sockstate, gd[i].memberstate, true);
        srt::readLinkStats(gd[i].id, ls, clear_interval);
        now.push_back(ls);
      }
    } else {
      srt::LinkStats ls;
      ls.name = "single";
      ls.state = srt::linkStateFrom(srt_getsockstate(s.sock.get()), SRT_GST_RUNNING, false);
      srt::readLinkStats(s.sock.get(), ls, clear_interval);
      now.push_back(ls);
    }
    s.last_links = std::move(now);
  };
  for (auto& [id, s] : streams_)
    readStream(*s);
  for (auto& [sock, conn] : links_) {
    if (!conn->sock.valid())
      continue;
    auto entry = conn->session->links.find(conn->link);  // acceptLink made it: never inserts
    if (entry == conn->session->links.end())
      continue;
    srt::LinkStats& ls = entry->second.srt;
    ls.state = srt::linkStateFrom(srt_getsockstate(conn->sock.get()), SRT_GST_RUNNING, false);
    srt::readLinkStats(conn->sock.get(), ls, clear_interval);
  }
}

nlohmann::json Receiver::statsJson(bool clear_interval) {
  readSrtStats(clear_interval);
  std::lock_guard lock(mu_);
  nlohmann::json streams = nlohmann::json::array();
  auto add = [&](Stream& s) {
    nlohmann::json links = nlohmann::json::array();
    for (const auto& l : s.last_links)
      links.push_back(srt::toJson(l));
    const QueuedOutput::Counters out = s.output ? s.output->counters() : QueuedOutput::Counters{};
    streams.push_back({{"stream", s.name},
                       {"mode", s.is_group ? "group" : "single"},
                       {"active", s.active},
                       {"output", s.output ? s.output->describe() : ""},
                       {"payloads", s.payloads},
                       {"bytes", s.bytes},
                       {"output_errors", s.output_errors},
                       {"output_dropped", out.dropped_payloads},
                       {"output_queued_bytes", out.queued_bytes},
                       {"links", links}});
  };
  for (auto& [id, s] : streams_)
    add(*s);
  for (auto& s : ended_)
    add(*s);
  for (auto& [id, s] : sessions_)
    streams.push_back(sessionJson(*s));
  nlohmann::json refused = {{"wrong_passphrase", 0},
                            {"one_sided_passphrase", 0},
                            {"malformed_stream_id", refused_malformed_.load()},
                            {"unknown_stream", refused_unknown_stream_.load()},
                            {"ended_session", refused_ended_session_.load()},
                            {"output_busy", refused_output_busy_.load()},
                            {"other", 0}};
  for (int reason = 0; reason < SRT_REJ_E_SIZE; ++reason) {
    auto& count = refused[libsrtRefusal(reason).first];
    count = count.get<std::uint64_t>() + srt::rejectedHandshakes(reason);
  }
  nlohmann::json out = {{"streams", streams}, {"refused", refused}};
  if (!srtla_.empty()) {
    nlohmann::json relays = nlohmann::json::array();
    for (const auto& r : srtla_)
      relays.push_back(r->statsJson());
    out["srtla"] = std::move(relays);
  }
  return out;
}

// libsrt 1.5.1 does not always raise a group's read-ready event again after a read
// that left packets in a member's buffer (fixed upstream after 1.5.1, Haivision/srt
// PR #2766): under load a broadcast stream stalled with every packet received by both
// members (tests/plugins/gstreamer, SrcOutputsWhatASender...). Reading each group now
// and then whatever epoll says costs one non-blocking srt_recvmsg2 per group. A stream
// whose connection ended is read the same way while it drains (readFrom).
void Receiver::pollStreams() {
  std::vector<Stream*> groups;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, stream] : streams_) {
      if ((stream->is_group || stream->broken_at) && stream->active) {
        groups.push_back(stream.get());
      }
    }
  }
  for (Stream* s : groups) {
    readFrom(*s);  // an ended stream moves to ended_: the pointer stays valid
  }
}

Status Receiver::run() {
  auto next_stats = Clock::now() + options_.stats_interval;
  auto next_group_poll = Clock::now() + kGroupPollInterval;
  auto next_receipts = Clock::now() + playout::kReceiptInterval;
  std::vector<SRT_EPOLL_EVENT> events(64);
  std::vector<srt::Socket> closing;
  std::thread playout([this] { playoutLoop(); });
  while (!stopping_) {
    // Woken for the receipts while adaptive links are connected.
    bool receipts_due = false;
    {
      std::lock_guard lock(mu_);
      receipts_due = !links_.empty();
    }
    const auto wait =
        receipts_due
            ? std::chrono::duration_cast<std::chrono::milliseconds>(next_receipts - Clock::now())
            : std::chrono::milliseconds(100);
    int n = srt_epoll_uwait(epoll_.id(), events.data(), static_cast<int>(events.size()),
                            std::clamp<std::int64_t>(wait.count(), 0, 100));
    for (int i = 0; i < n; ++i) {
      SRTSOCKET fd = events[i].fd;
      bool is_listener = std::any_of(listeners_.begin(), listeners_.end(),
                                     [&](const srt::Socket& l) { return l.get() == fd; });
      if (is_listener) {
        acceptFrom(fd);
        continue;
      }
      Stream* s = nullptr;
      LinkConn* link = nullptr;
      {
        std::lock_guard lock(mu_);
        if (auto it = streams_.find(fd); it != streams_.end())
          s = it->second.get();
        if (auto it = links_.find(fd); it != links_.end())
          link = it->second.get();
      }
      // A stream whose connection ended is read by pollStreams only: every read of a broken
      // group raises its epoll event again, and reading it from here spun the receiver at
      // full CPU for the whole drain (30,000 libsrt error lines in half a second).
      if (s && !s->broken_at)
        readFrom(*s);
      if (link && link->sock.valid())
        readFromLink(*link);
    }
    if (Clock::now() >= next_group_poll) {
      next_group_poll = Clock::now() + kGroupPollInterval;
      pollStreams();
    }
    if (Clock::now() >= next_receipts) {
      next_receipts = Clock::now() + playout::kReceiptInterval;
      sendReceipts();
    }
    {
      std::lock_guard lock(mu_);
      std::erase_if(links_, [](const auto& kv) { return !kv.second->sock.valid(); });
      closing.swap(to_close_);
    }
    closing.clear();  // srt_close without mu_
    logRefusalsDue();
    if (Clock::now() >= next_stats) {
      next_stats += options_.stats_interval;
      auto j = statsJson(true);
      if (options_.stats)
        options_.stats->write("receiver", j);
      if (options_.on_stats)
        options_.on_stats(j);
    }
  }
  {
    std::lock_guard lock(mu_);
    playout_stop_ = true;
  }
  playout_cv_.notify_all();
  playout.join();
  std::vector<PendingWrite> rest;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, sess] : sessions_) {
      if (!sess->ended)
        releaseSession(*sess, Clock::now(), true);
    }
    rest.swap(pending_);
  }
  writePending(rest);
  logRefusalsDue();
  auto j = statsJson(false);
  j["final"] = true;
  if (options_.stats)
    options_.stats->write("receiver", j);
  if (options_.on_stats)
    options_.on_stats(j);
  // Closed without mu_, as in the loop: srt_close takes libsrt's locks, and libsrt calls
  // onListen, which takes mu_, from its own threads (a sender still running reconnects
  // the moment its links here close).
  std::vector<srt::Socket> last;
  std::map<SRTSOCKET, std::unique_ptr<LinkConn>> links;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : streams_)
      last.push_back(std::move(s->sock));
    for (auto& sock : to_close_)
      last.push_back(std::move(sock));
    to_close_.clear();
    links.swap(links_);
  }
  last.clear();
  links.clear();
  outputs_.clear();  // flushes and closes files
  return okStatus();
}

}  // namespace bondcast::receiver
