// The receiver: SRT listeners that accept socket-group connections (broadcast and
// backup senders) and plain SRT callers, one stream per sender, each written to its
// output (see output.h for naming).
//
// One thread runs run(): non-blocking sockets and srt_epoll_uwait (a blocking
// srt_recvmsg2 on a group spins at 100% CPU when a member breaks in libsrt 1.5.1).
// stop() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/srt/srt.h"
#include "common/stats_sink.h"
#include "receiver/output.h"

namespace bondcast::receiver {

struct ReceiverOptions {
  std::vector<std::string> listen;  // srt://[ADDR]:PORT, one listener each
  std::string output;
  // When set, opens each stream's output instead of `output` (which is then not
  // parsed); one stream at a time, as with stdout. The GStreamer source uses it.
  std::function<Result<std::unique_ptr<Output>>(const std::string& stream)> output_factory;
  srt::CommonOptions srt;  // latency, passphrase (stream_id unused)
  std::chrono::milliseconds stats_interval{1000};
  std::shared_ptr<StatsSink> stats;                     // may be null
  std::function<void(const nlohmann::json&)> on_stats;  // called on the receiver thread
};

class Receiver {
 public:
  // Validates the options and binds every listener (a port in use is an error here).
  static Result<std::unique_ptr<Receiver>> create(ReceiverOptions options);
  ~Receiver();

  // Receives until stop(); outputs are flushed and closed before it returns.
  Status run();
  void stop() { stopping_ = true; }
  // The bound port of each listener, in --listen order (useful with port 0).
  std::vector<std::uint16_t> ports() const;
  // Streams received so far (also those that ended), as the stats record.
  nlohmann::json statsJson(bool clear_interval);

 private:
  struct Stream;
  explicit Receiver(ReceiverOptions o);
  static int onListen(void* self, SRTSOCKET ns, int hsversion, const sockaddr* peer,
                      const char* streamid);
  void acceptFrom(SRTSOCKET listener);
  void readFrom(Stream& s);
  void endStream(Stream& s, const std::string& why);
  Result<Output*> outputFor(const std::string& name);

  ReceiverOptions options_;
  OutputSpec output_spec_;
  std::vector<srt::Socket> listeners_;
  srt::Epoll epoll_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;  // guards streams_ (read by the listen callback and statsJson)
  std::map<SRTSOCKET, std::unique_ptr<Stream>> streams_;
  std::vector<std::unique_ptr<Stream>> ended_;
  std::map<std::string, std::unique_ptr<Output>> outputs_;  // by stream name
};

}  // namespace bondcast::receiver
