// SPDX-License-Identifier: MPL-2.0
// `bondcast recv`: accepts the senders' links and writes each stream to its output.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/cli_common.h"
#include "app/http_endpoint.h"
#include "app/live_view.h"
#include "app/recv_cli.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/srt_uri.h"
#include "common/units.h"
#include "receiver/allow_list.h"
#include "receiver/receiver.h"

namespace bondcast::app {
namespace {

int runRecv(const RecvCli& cli) {
  auto view = setupViewAndLogging(cli.view, cli.verbosity, cli.stats, "recv");
  receiver::ReceiverOptions o;
  o.listen = cli.listen;
  o.output = cli.output;
  o.srt = {std::chrono::milliseconds(cli.latency_ms), cli.passphrase, {}};
  o.packet_log = cli.packet_log;
  o.allow_streams = cli.allow_streams;
  if (auto spec = receiver::parseOutputSpec(cli.output); !spec) {
    return fail("recv", kExitUsage, spec.error().message);
  }
  for (const auto& l : cli.listen) {
    auto uri = receiver::parseListenUri(l);
    if (!uri)
      return fail("recv", kExitUsage, "--" + uri.error().message);
    if (uri->srt.pbkeylen && !uri->srt.passphrase && cli.passphrase.empty())
      return fail("recv", kExitUsage, "--listen '" + l + "': pbkeylen= needs a passphrase");
  }
  if (!cli.passphrase.empty() && (cli.passphrase.size() < 10 || cli.passphrase.size() > 79)) {
    return fail("recv", kExitUsage, "--passphrase must be 10 to 79 characters long");
  }
  if (auto allow = receiver::AllowList::parse(cli.allow_streams); !allow) {
    return fail("recv", kExitUsage, "--" + allow.error().message);
  }
  std::optional<Micros> duration;
  if (!cli.duration.empty()) {
    auto d = parseRunLength(cli.duration);
    if (!d)
      return fail("recv", kExitUsage, "--duration: " + d.error().message);
    duration = *d;
  }
  std::optional<HttpAddress> http;
  if (auto code = openHttpAndStats("recv", cli.http, cli.stats, http, o.stats)) {
    return *code;
  }
  auto snapshot = std::make_shared<StatsSnapshot>();
  std::function<void(const nlohmann::json&)> draw;
  auto table = std::make_shared<ReceiverTable>();
  if (view) {
    draw = drawRecords(view, table);
  }
  o.on_stats = [snapshot, serve = http.has_value(), draw](const nlohmann::json& j) {
    if (serve) {
      snapshot->update("receiver", j);
    }
    if (draw) {
      draw(j);
    }
  };

  // Before libsrt starts threads, so that every thread blocks the signals.
  // Static: the signal thread outlives this function.
  static StopTarget<receiver::Receiver> stop_target;
  installStopSignals([](int) { stop_target.request(); });
  srt::Runtime runtime(srt::Runtime::kEndProcessIfStuck);
  srt::routeLogsToSpdlog();
  if (auto st = checkSrtBonding(); !st)
    return fail("recv", kExitFailure, st.error().message);
  auto rx = receiver::Receiver::create(std::move(o));
  if (!rx)
    return fail("recv", kExitFailure, rx.error().message);
  auto ports = (*rx)->ports();
  std::vector<ListenerInfo> listeners;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    listeners.push_back({cli.listen[i], ports[i]});
  }
  // Listening from here until run() returns.
  auto listening = std::make_shared<std::atomic<bool>>(true);
  std::unique_ptr<HttpEndpoint> endpoint;
  if (http) {
    auto e = HttpEndpoint::start(
        *http,
        {.metrics = [snapshot, listeners] { return receiverMetrics(snapshot->view(), listeners); },
         .stats = [snapshot] { return maskedStats(snapshot->view().record); },
         .health = [snapshot, listening,
                    listeners] { return receiverHealth(snapshot->view(), *listening, listeners); },
         .reload = nullptr});
    if (!e) {
      return fail("recv", kExitFailure, e.error().message);
    }
    endpoint = std::move(*e);
  }
  receiver::Receiver* r = rx->get();
  StopTarget<receiver::Receiver>::Scope stoppable(stop_target, *r);
  // --duration: a timer that asks the receiver to stop, or ends with the run.
  std::mutex timer_mu;
  std::condition_variable timer_cv;
  bool run_over = false;
  std::thread timer;
  if (duration) {
    timer = std::thread([&, d = *duration] {
      std::unique_lock lock(timer_mu);
      if (!timer_cv.wait_for(lock, d, [&] { return run_over; })) {
        stop_target.request();
      }
    });
  }
  std::vector<std::string> listeners_text;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    listeners_text.push_back(fmt::format("{} (port {})", maskSecrets(cli.listen[i]), ports[i]));
    spdlog::info("listening on {}", listeners_text.back());
  }
  table->setListeners(std::move(listeners_text));  // run() draws, on this thread
  auto st = r->run();
  *listening = false;
  {
    std::lock_guard lock(timer_mu);
    run_over = true;
  }
  timer_cv.notify_all();
  if (timer.joinable()) {
    timer.join();
  }
  if (view) {
    view->stop();  // the final table, before the line that says why the run ended
  }
  if (!st) {
    return fail("recv", kExitFailure, st.error().message);
  }
  return kExitOk;
}

}  // namespace

void addRecv(CLI::App& root, Runner& chosen) {
  auto cli = std::make_shared<RecvCli>();
  addRecvOptions(root, cli)->callback([cli, &chosen] { chosen = [cli] { return runRecv(*cli); }; });
}

}  // namespace bondcast::app
