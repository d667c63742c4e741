// SPDX-License-Identifier: MPL-2.0
// `bondcast send`: one MPEG-TS input over several links: SRT's socket groups
// (broadcast, backup) or bondcast's scheduler over one SRT connection per link (adaptive).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/cli_common.h"
#include "app/http_endpoint.h"
#include "app/live_view.h"
#include "app/send_cli.h"
#include "app/send_reload.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/units.h"
#include "sender/send_session.h"

namespace bondcast::app {
namespace {

int runSend(const SendCli& cli) {
  auto view = setupViewAndLogging(cli.view, cli.verbosity, cli.stats, "send");
  sender::SendOptions o;
  auto mode = sender::parseSendMode(cli.mode);
  if (!mode)
    return fail("send", kExitUsage, mode.error().message);
  o.mode = *mode;
  o.links = cli.links;
  o.srt = {std::chrono::milliseconds(cli.latency_ms), cli.passphrase, cli.stream_id};
  o.policy = cli.policy;
  o.redundancy_budget = cli.redundancy_percent / 100.0;
  o.connect_timeout = std::chrono::milliseconds(cli.connect_timeout_ms);
  if (auto st = sender::checkSendOptions(o); !st)
    return fail("send", kExitUsage, st.error().message);
  if (!cli.passphrase.empty() && (cli.passphrase.size() < 10 || cli.passphrase.size() > 79)) {
    return fail("send", kExitUsage, "--passphrase must be 10 to 79 characters long");
  }
  auto bitrate = parseBitrateBps(cli.bitrate);
  if (!bitrate)
    return fail("send", kExitUsage, "--bitrate: " + bitrate.error().message);
  if (auto st = sender::checkInputSource(cli.input); !st)
    return fail("send", kExitUsage, st.error().message);
  std::optional<HttpAddress> http;
  if (auto code = openHttpAndStats("send", cli.http, cli.stats, http, o.stats)) {
    return *code;
  }

  // Before libsrt and FFmpeg start threads, so that every thread blocks the signals.
  // Static: the signal thread outlives this function. SIGHUP re-reads --config's links.
  static StopTarget<sender::SendSession> stop_target;
  static SendReloader reloader(commandLine(), {cli, configPathIn(commandLine())});
  installStopSignals([](int) { stop_target.request(); }, [] { reloader.reload("SIGHUP"); });
  srt::Runtime runtime(srt::Runtime::kEndProcessIfStuck);
  srt::routeLogsToSpdlog();
  if (auto st = checkSrtBonding(); !st)
    return fail("send", kExitFailure, st.error().message);

  sender::InputOptions in;
  in.source = cli.input;
  in.loop = cli.loop;
  in.bitrate_bps = *bitrate;
  in.latency = std::chrono::milliseconds(cli.latency_ms);
  auto input = sender::openInput(in);
  if (!input)
    return fail("send", kExitFailure, input.error().message);

  auto snapshot = std::make_shared<StatsSnapshot>();
  std::function<void(const nlohmann::json&)> draw;
  if (view) {
    draw = drawRecords(view, std::make_shared<SenderTable>());
  }
  o.on_stats = [snapshot, serve = http.has_value(), draw](const nlohmann::json& j) {
    if (serve) {
      snapshot->update("sender", j);
    }
    if (draw) {
      draw(j);
    }
  };
  auto session = sender::SendSession::create(std::move(o));
  if (!session)
    return fail("send", kExitFailure, session.error().message);
  std::unique_ptr<HttpEndpoint> endpoint;  // stops before the session goes
  if (http) {
    auto e = HttpEndpoint::start(
        *http, {.metrics = [snapshot] { return senderMetrics(snapshot->view()); },
                .stats = [snapshot] { return maskedStats(snapshot->view().record); },
                .health = [snapshot] { return senderHealth(snapshot->view()); },
                .reload =
                    [] {
                      auto outcome = reloader.reload("POST /reload");
                      return std::pair{outcome.http_status, std::move(outcome.body)};
                    }});
    if (!e) {
      return fail("send", kExitFailure, e.error().message);
    }
    endpoint = std::move(*e);
  }
  sender::SendSession* s = session->get();
  auto st = [&] {
    StopTarget<sender::SendSession>::Scope stoppable(stop_target, *s);
    SendReloader::Scope reloadable(reloader, *s);
    return s->run(**input);
  }();
  if (view) {
    view->stop();  // the final table, before the line that says why the run ended
  }
  if (!st)
    return fail("send", kExitFailure, st.error().message);
  return kExitOk;
}

}  // namespace

void addSend(CLI::App& root, Runner& chosen) {
  auto cli = std::make_shared<SendCli>();
  addSendOptions(root, cli)->callback([cli, &chosen] { chosen = [cli] { return runSend(*cli); }; });
}

}  // namespace bondcast::app
