// SPDX-License-Identifier: MPL-2.0
// The receiver: SRT listeners that accept socket-group connections (broadcast and
// backup senders), plain SRT callers, and the per-link connections of adaptive-mode
// sessions (their stream id names the session and the link, common/wire.h), one stream
// per sender, each written to its output (see output.h for naming).
//
// Adaptive sessions: every link's packets go through one Merger (playout/merge.h), which
// drops duplicates and writes each packet, in sequence order, at its playout time
// (source time + the fastest link's delay + the latency: playout/playout_clock.h); a
// packet that comes later than that is dropped and counted, and holds nothing up. Packets with a
// malformed header or another session's id are dropped and counted; a link whose stream id is
// malformed, or names a session that has ended (a newer session of the same stream took over its
// output), is refused at its handshake and counted.
//
// With an allow-list (allow_list.h), a stream that is not on it is refused at its handshake,
// and a listed stream's own passphrase is set on each of its connections there. Every
// refusal is counted in the stats ("refused") and logged at most once a second per kind
// (refusal_log.h), also those libsrt makes itself (a wrong passphrase).
//
// One thread runs run(): non-blocking sockets and srt_epoll_uwait (a blocking
// srt_recvmsg2 on a group spins at 100% CPU when a member breaks in libsrt 1.5.1); it
// reads every link, feeds the merges and sends each adaptive session's receipts back to
// its sender (what the merge holds, every 10 ms). A playout thread, started by run(),
// writes each adaptive session's packets at their playout times. stop() may be called from
// any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/srt/srt.h"
#include "common/srt_uri.h"
#include "common/stats_sink.h"
#include "common/wire.h"
#include "receiver/allow_list.h"
#include "receiver/output.h"
#include "receiver/packet_log.h"
#include "receiver/queued_output.h"
#include "receiver/refusal_log.h"
#include "receiver/srtla_relay.h"

namespace bondcast::receiver {

struct ReceiverOptions {
  // srt://[ADDR]:PORT[?latency=MS&passphrase=S&pbkeylen=N], one listener each; the
  // options below are the defaults, a listen URI's own override them for that port.
  std::vector<std::string> listen;
  std::string output;
  // When set, opens each stream's output instead of `output` (which is then not
  // parsed); one stream at a time, as with stdout. The GStreamer source uses it.
  std::function<Result<std::unique_ptr<Output>>(const std::string& stream)> output_factory;
  // latency (adaptive sessions: the playout latency, or the sender's if larger),
  // passphrase (stream_id unused)
  srt::CommonOptions srt;
  // NAME[=PASSPHRASE] each (allow_list.h): the only streams taken, each with its own
  // passphrase or the port's. None: every stream, with the port's passphrase.
  std::vector<std::string> allow_streams;
  std::string packet_log;  // CSV of every payload written out (packet_log.h); "" = none
  std::chrono::milliseconds stats_interval{1000};
  std::shared_ptr<StatsSink> stats;                     // may be null
  std::function<void(const nlohmann::json&)> on_stats;  // called on the receiver thread
};

// A --listen URI checked: where, and its own SRT options (common/srt_uri.h). Errors
// name the URI and the parameter. srtla://[ADDR]:PORT takes SRTLA senders (srtla_relay.h)
// with the same options.
struct ListenUri {
  Uri uri;
  SrtUriOptions srt;
  bool srtla = false;
};
Result<ListenUri> parseListenUri(const std::string& text);

class Receiver {
 public:
  using Clock = std::chrono::steady_clock;

  // Validates the options and binds every listener (a port in use is an error here).
  static Result<std::unique_ptr<Receiver>> create(ReceiverOptions options);
  ~Receiver();

  // Receives until stop(); outputs are flushed and closed before it returns.
  Status run();
  void stop() { stopping_ = true; }
  // The bound port of each listener, in --listen order (useful with port 0).
  std::vector<std::uint16_t> ports() const;
  // Streams received so far (also those that ended), as the stats record. Called on the
  // receiver thread only (run()).
  nlohmann::json statsJson(bool clear_interval);

 private:
  struct Stream;
  struct Session;
  struct LinkConn;
  explicit Receiver(ReceiverOptions o);
  static int onListen(void* self, SRTSOCKET ns, int hsversion, const sockaddr* peer,
                      const char* streamid);
  // Refuses the handshake of `ns` (the listen callback's): sets libsrt's reject reason
  // (`reason`, an SRT_REJX_* code the caller reads), logs it (bounded: refusal_log.h).
  // Returns -1, what the callback returns to refuse.
  int refuse(SRTSOCKET ns, int reason, std::string_view kind, std::string detail);
  // Any thread: a refusal of `kind` (a key of the stats' "refused"), for the log.
  void logRefusals(std::string_view kind, std::uint64_t count, std::string detail);
  // The receiver thread, every loop: the refusals libsrt made itself since the last call,
  // and the bounded log lines that are due.
  void logRefusalsDue();
  void acceptFrom(SRTSOCKET listener);
  void readFrom(Stream& s);
  void pollStreams();
  static constexpr std::chrono::milliseconds kGroupPollInterval{20};
  // How long past its latency a stream whose connection ended is still read (readFrom).
  static constexpr std::chrono::milliseconds kDrainMargin{250};
  void endStream(Stream& s, const std::string& why);
  Result<QueuedOutput*> outputFor(const std::string& name);
  // Adaptive sessions (receiver thread; mu_ held where noted in the .cpp).
  void acceptLink(srt::Socket sock, const std::string& stream_id,
                  const wire::LinkIdentity& identity);
  void readFromLink(LinkConn& c);
  void endLink(LinkConn& c, const std::string& why);
  // A payload (or a run of lost sequence numbers) a merge released, to be written out.
  struct PendingWrite {
    Session* session;
    std::uint64_t seq;
    int link;
    std::uint64_t source_time_us;
    std::uint64_t lost_count;  // > 0: seq .. seq + lost_count - 1 were given up
    std::vector<std::uint8_t> payload;
  };
  void releaseSession(Session& s, Clock::time_point now, bool flush);
  // Each adaptive session's receipt (common/wire.h) on the links playout::receiptGoesOn()
  // picks among those whose sender reads them (receiver thread, every
  // playout::kReceiptInterval): what its merge holds, so that the sender re-sends only what
  // did not arrive.
  void sendReceipts();
  void writePending(std::vector<PendingWrite>& pending);
  void playoutLoop();
  void endSession(Session& s, const std::string& why);
  void readSrtStats(bool clear_interval);
  nlohmann::json sessionJson(Session& s);

  ReceiverOptions options_;
  OutputSpec output_spec_;
  std::vector<srt::Socket> listeners_;
  std::vector<std::uint16_t> listen_ports_;  // per --listen, in order (an SRTLA one's UDP port)
  std::vector<std::unique_ptr<SrtlaRelay>> srtla_;
  srt::Epoll epoll_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;  // guards streams_ (read by the listen callback and statsJson)
  std::map<SRTSOCKET, std::unique_ptr<Stream>> streams_;
  std::vector<std::unique_ptr<Stream>> ended_;
  std::map<std::string, std::unique_ptr<QueuedOutput>> outputs_;  // by stream name
  std::map<std::uint32_t, std::unique_ptr<Session>> sessions_;    // guarded by mu_
  std::map<SRTSOCKET, std::unique_ptr<LinkConn>> links_;          // guarded by mu_
  std::vector<srt::Socket> to_close_;                             // guarded by mu_
  std::vector<PendingWrite> pending_;                             // guarded by mu_
  bool playout_stop_ = false;                                     // guarded by mu_
  std::condition_variable playout_cv_;  // wakes the playout thread (with mu_)
  // Guards every write to an output (a QueuedOutput: it never blocks) and the packet log:
  // the receiver thread writes group streams, the playout thread adaptive sessions. Never
  // taken by libsrt's callbacks.
  std::mutex out_mu_;
  std::unique_ptr<PacketLog> packet_log_;
  AllowList allow_;  // set by create(), read by the listen callback
  // Handshakes refused by bondcast (libsrt refuses a wrong passphrase itself).
  std::atomic<std::uint64_t> refused_malformed_{0};
  std::atomic<std::uint64_t> refused_unknown_stream_{0};
  std::atomic<std::uint64_t> refused_ended_session_{0};
  std::atomic<std::uint64_t> refused_output_busy_{0};
  // Guards refusal_log_ and libsrt_refused_ only (never held while logging); taken by the
  // listen callback and the receiver thread.
  std::mutex refusal_mu_;
  RefusalLog refusal_log_;
  std::array<std::uint64_t, SRT_REJ_E_SIZE> libsrt_refused_{};  // by SRT_REJ_*, last seen
};

}  // namespace bondcast::receiver
