#include "receiver/receiver.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include <arpa/inet.h>

#include <cstring>

#include "common/srt/link_stats.h"
#include "common/uri.h"

namespace bondcast::receiver {

using Clock = std::chrono::steady_clock;

struct Receiver::Stream {
  srt::Socket sock;  // group or single socket
  bool is_group = false;
  std::string stream_id;
  std::string name;          // streamName(stream_id)
  Output* output = nullptr;  // owned by outputs_
  bool active = true;
  std::uint64_t payloads = 0;
  std::uint64_t bytes = 0;
  std::uint64_t output_errors = 0;
  std::vector<srt::LinkStats> last_links;
};

Receiver::Receiver(ReceiverOptions o) : options_(std::move(o)) {}

Receiver::~Receiver() {
  // Close accepted sockets before listeners, listeners before the callbacks' target.
  streams_.clear();
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
  std::unique_ptr<Receiver> self(new Receiver(std::move(options)));
  self->output_spec_ = *spec;
  for (const auto& text : self->options_.listen) {
    auto uri = parseUri(text);
    if (!uri)
      return Error{"listen: " + uri.error().message};
    if (uri->scheme != "srt")
      return Error{"listen '" + text + "': scheme must be srt://"};
    auto addr = srt::resolve(uri->host, uri->port, true);
    if (!addr)
      return Error{"listen '" + text + "': " + addr.error().message};
    srt::Socket l(srt_create_socket());
    SRTSOCKET s = l.get();
    srt::CommonOptions common = self->options_.srt;
    common.stream_id.clear();
    if (auto st = srt::applyCommonOptions(s, common); !st)
      return st.error();
    int yes = 1;
    bool no = false;
    if (auto st = srt::setOption(s, SRTO_GROUPCONNECT, yes, "group connect"); !st) {
      return st.error();
    }
    (void)srt::setOption(s, SRTO_RCVSYN, no, "non-blocking");
    if (srt_bind(s, addr->get(), addr->len) == SRT_ERROR) {
      int sys = 0;
      srt_getlasterror(&sys);
      return Error{"cannot listen on " + text + ": " +
                   (sys ? std::string(std::strerror(sys)) : srt_getlasterror_str())};
    }
    if (srt_listen(s, 16) == SRT_ERROR)
      return Error{srt::lastError("listen on " + text)};
    srt_listen_callback(s, &Receiver::onListen, self.get());
    if (auto st = self->epoll_.add(s, SRT_EPOLL_IN | SRT_EPOLL_ERR); !st)
      return st.error();
    self->listeners_.push_back(std::move(l));
  }
  return self;
}

std::vector<std::uint16_t> Receiver::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& l : listeners_) {
    sockaddr_storage ss{};
    int len = sizeof ss;
    srt_getsockname(l.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    out.push_back(ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port));
  }
  return out;
}

// Runs on a libsrt thread for every incoming handshake (each group member too).
// Outputs that carry one stream refuse a second stream id while one is active.
int Receiver::onListen(void* opaque, SRTSOCKET, int, const sockaddr*, const char* streamid) {
  auto* self = static_cast<Receiver*>(opaque);
  if (self->output_spec_.per_stream)
    return 0;
  std::string name = streamName(streamid ? streamid : "");
  std::lock_guard lock(self->mu_);
  for (const auto& [id, s] : self->streams_) {
    if (s->active && s->name != name) {
      spdlog::warn("refused stream '{}': output {} already carries stream '{}'", name,
                   self->output_spec_.text, s->name);
      return -1;
    }
  }
  return 0;
}

Result<Output*> Receiver::outputFor(const std::string& name) {
  auto it = outputs_.find(name);
  if (it != outputs_.end())
    return it->second.get();
  auto out =
      options_.output_factory ? options_.output_factory(name) : openOutput(output_spec_, name);
  if (!out)
    return out.error();
  Output* raw = out->get();
  outputs_.emplace(name, std::move(*out));
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
    (void)srt::setOption(s, SRTO_RCVSYN, no, "non-blocking");
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
    stream->name = streamName(stream->stream_id);
    auto out = outputFor(stream->name);
    if (!out) {
      spdlog::error("stream '{}': {}", stream->name, out.error().message);
      return;  // closes the socket: the sender sees the connection end
    }
    stream->output = *out;
    spdlog::info("accepted {} stream '{}'", stream->is_group ? "group" : "single-link",
                 stream->name);
    (void)epoll_.add(s, SRT_EPOLL_IN | SRT_EPOLL_ERR);
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
    endStream(s, n == 0 ? "closed" : srt_getlasterror_str());
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

nlohmann::json Receiver::statsJson(bool clear_interval) {
  std::lock_guard lock(mu_);
  nlohmann::json streams = nlohmann::json::array();
  auto add = [&](Stream& s) {
    nlohmann::json links = nlohmann::json::array();
    if (s.active) {
      std::vector<srt::LinkStats> now;
      std::vector<SRTSOCKET> socks;
      std::vector<std::pair<SRT_SOCKSTATUS, SRT_MEMBERSTATUS>> states;
      if (s.is_group) {
        SRT_SOCKGROUPDATA gd[16];
        size_t n = 16;
        if (srt_group_data(s.sock.get(), gd, &n) == SRT_ERROR)
          n = 0;
        for (size_t i = 0; i < std::min<size_t>(n, 16); ++i) {
          srt::LinkStats ls;
          char host[64] = {};
          auto* sin = reinterpret_cast<const sockaddr_in*>(&gd[i].peeraddr);
          inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
          ls.name = std::string(host) + ":" + std::to_string(ntohs(sin->sin_port));
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
      s.last_links = now;
    }
    for (const auto& l : s.last_links)
      links.push_back(srt::toJson(l));
    streams.push_back({{"stream", s.name},
                       {"active", s.active},
                       {"output", s.output ? s.output->describe() : ""},
                       {"payloads", s.payloads},
                       {"bytes", s.bytes},
                       {"output_errors", s.output_errors},
                       {"links", links}});
  };
  for (auto& [id, s] : streams_)
    add(*s);
  for (auto& s : ended_)
    add(*s);
  return {{"streams", streams}};
}

Status Receiver::run() {
  auto next_stats = Clock::now() + options_.stats_interval;
  std::vector<SRT_EPOLL_EVENT> events(64);
  while (!stopping_) {
    int n = srt_epoll_uwait(epoll_.id(), events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < n; ++i) {
      SRTSOCKET fd = events[i].fd;
      bool is_listener = std::any_of(listeners_.begin(), listeners_.end(),
                                     [&](const srt::Socket& l) { return l.get() == fd; });
      if (is_listener) {
        acceptFrom(fd);
        continue;
      }
      Stream* s = nullptr;
      {
        std::lock_guard lock(mu_);
        auto it = streams_.find(fd);
        if (it != streams_.end())
          s = it->second.get();
      }
      if (s)
        readFrom(*s);
    }
    if (Clock::now() >= next_stats) {
      next_stats += options_.stats_interval;
      auto j = statsJson(true);
      if (options_.stats)
        options_.stats->write("receiver", j);
      if (options_.on_stats)
        options_.on_stats(j);
    }
  }
  auto j = statsJson(false);
  j["final"] = true;
  if (options_.stats)
    options_.stats->write("receiver", j);
  if (options_.on_stats)
    options_.on_stats(j);
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : streams_)
      s->sock.reset();
  }
  outputs_.clear();  // flushes and closes files
  return okStatus();
}

}  // namespace bondcast::receiver
