// SPDX-License-Identifier: MPL-2.0
// `--http`: a small HTTP server on its own threads serving /metrics (Prometheus text),
// /stats (the latest stats record as JSON) and /health (200 or 503 with a JSON body),
// and for the sender POST /reload (re-reads the config file's links: send_reload.h).
//
// It never touches the data path: the stats thread hands each record to a
// StatsSnapshot (a pointer swap under a short lock); HTTP threads take the pointer
// under that lock and render outside it. No libsrt call happens on an HTTP thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "app/http_address.h"
#include "app/stats_metrics.h"
#include "common/result.h"

namespace bondcast::app {

// The latest stats record. Thread-safe.
class StatsSnapshot {
 public:
  using Clock = std::chrono::steady_clock;
  // Stores `record` stamped as the stats file stamps it ("type", "ts_ms").
  void update(const std::string& type, nlohmann::json record);
  // The latest record (null before the first) and its age at `now`.
  StatsView view(Clock::time_point now = Clock::now()) const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const nlohmann::json> record_;  // guarded by mu_
  Clock::time_point at_;                          // guarded by mu_
};

class HttpEndpoint {
 public:
  // What each path serves; called on the server's threads, each request on its own.
  struct Routes {
    std::function<std::string()> metrics;  // Prometheus text
    std::function<nlohmann::json()> stats;
    std::function<Health()> health;
    // POST /reload (bondcast send): the HTTP status and JSON body; null: no such path.
    std::function<std::pair<int, nlohmann::json>()> reload;
  };
  // Binds `address` and serves until destroyed. The error names the address (in use,
  // not available).
  static Result<std::unique_ptr<HttpEndpoint>> start(const HttpAddress& address,
                                                     const Routes& routes);
  // Stops serving (closes the socket, ends keep-alive connections) and joins the threads.
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // The bound address (its port is the chosen one when 0 was asked for).
  const HttpAddress& address() const { return address_; }

 private:
  struct Server;
  explicit HttpEndpoint(HttpAddress address);
  HttpAddress address_;
  std::unique_ptr<Server> server_;
};

}  // namespace bondcast::app
