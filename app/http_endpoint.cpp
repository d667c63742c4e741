// SPDX-License-Identifier: MPL-2.0
#include "app/http_endpoint.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/prometheus.h"
#include "common/stats_sink.h"

namespace bondcast::app {

void StatsSnapshot::update(const std::string& type, nlohmann::json record) {
  auto stamped = std::make_shared<const nlohmann::json>(stampRecord(type, std::move(record)));
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  record_ = std::move(stamped);
  at_ = now;
}

StatsView StatsSnapshot::view(Clock::time_point now) const {
  std::shared_ptr<const nlohmann::json> record;
  Clock::time_point at;
  {
    std::lock_guard lock(mu_);
    record = record_;
    at = at_;
  }
  if (!record) {
    return {};
  }
  return {*record, std::chrono::duration<double>(now - at).count()};
}

struct HttpEndpoint::Server {
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> finished{false};  // listen_after_bind returned
};

namespace {

constexpr int kThreads = 2;
// Bounds how long stopping waits for a client that keeps its connection open.
constexpr int kKeepAliveSeconds = 1;
constexpr int kIoTimeoutSeconds = 2;

void serveJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void addRoutes(httplib::Server& http, const HttpEndpoint::Routes& routes) {
  // Only GET and HEAD (httplib answers HEAD with the GET handler, without the body), and
  // POST for /reload where it is served. POST /reload is answered here, before httplib
  // reads a body: it takes none, and `curl -X POST` sends no Content-Length (which httplib
  // would answer with 400).
  http.set_pre_routing_handler([routes](const httplib::Request& req, httplib::Response& res) {
    const bool reload_path = routes.reload && req.path == "/reload";
    if (reload_path && req.method == "POST") {
      auto [status, body] = routes.reload();
      serveJson(res, status, body);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!reload_path && (req.method == "GET" || req.method == "HEAD")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const std::string allowed = reload_path ? "POST" : "GET, HEAD";
    res.status = 405;
    res.set_header("Allow", allowed);
    res.set_content("method " + req.method + " not allowed: only " + allowed + "\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  http.Get("/metrics", [routes](const httplib::Request&, httplib::Response& res) {
    res.set_content(routes.metrics(), prom::kContentType);
  });
  http.Get("/stats", [routes](const httplib::Request&, httplib::Response& res) {
    serveJson(res, 200, routes.stats());
  });
  http.Get("/health", [routes](const httplib::Request&, httplib::Response& res) {
    const Health h = routes.health();
    serveJson(res, h.ok ? 200 : 503, h.body);
  });
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404) {
      res.set_content("not found: " + req.path + " (try /metrics, /stats or /health)\n",
                      "text/plain");
    }
  });
}

}  // namespace

HttpEndpoint::HttpEndpoint(HttpAddress address)
    : address_(std::move(address)), server_(std::make_unique<Server>()) {}

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::start(const HttpAddress& address,
                                                          const Routes& routes) {
  std::unique_ptr<HttpEndpoint> self(new HttpEndpoint(address));
  httplib::Server& http = self->server_->http;
  http.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  http.set_keep_alive_timeout(kKeepAliveSeconds);
  http.set_read_timeout(kIoTimeoutSeconds, 0);
  http.set_write_timeout(kIoTimeoutSeconds, 0);
  addRoutes(http, routes);
  errno = 0;
  bool bound = false;
  if (address.port == 0) {
    const int port = http.bind_to_any_port(address.host);
    bound = port > 0;
    if (bound) {
      self->address_.port = static_cast<std::uint16_t>(port);
    }
  } else {
    bound = http.bind_to_port(address.host, address.port);
  }
  if (!bound) {
    // httplib keeps the failed bind's errno (it only closes the socket after it).
    const int err = errno;
    return Error{"--http: cannot listen on " + address.text() + ": " +
                 (err != 0 ? std::strerror(err) : "address in use or not available")};
  }
  Server* server = self->server_.get();
  server->thread = std::thread([server] {
    server->http.listen_after_bind();
    server->finished = true;
  });
  // httplib's stop() does nothing until the server runs: wait until it does, so that
  // destroying the endpoint right after start() still ends the thread.
  while (!http.is_running() && !server->finished) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  spdlog::info("serving /metrics, /stats and /health on http://{}{}", self->address_.text(),
               routes.reload ? " (and POST /reload)" : "");
  return self;
}

HttpEndpoint::~HttpEndpoint() {
  server_->http.stop();
  if (server_->thread.joinable()) {
    server_->thread.join();
  }
}

}  // namespace bondcast::app
