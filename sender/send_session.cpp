// SPDX-License-Identifier: MPL-2.0
#include "sender/send_session.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "scheduler/factory.h"
#include "sender/packetizer.h"
#include "sender/srtla_sender.h"
#include "sender/ts_inspect.h"

namespace bondcast::sender {

namespace {

Result<std::vector<LinkSpec>> linkSpecs(const SendOptions& o) {
  if (o.links.empty())
    return Error{"at least one --link is needed"};
  std::vector<LinkSpec> out;
  for (const auto& text : o.links) {
    auto link = parseLinkSpec(text);
    if (!link)
      return link.error();
    out.push_back(*link);
  }
  return out;
}

// A transport whose scheduler places each packet (adaptive, srtla): one shape of config.
template <class Sender, class Config>
Result<std::unique_ptr<Transport>> makeScheduled(const SendOptions& o,
                                                 std::vector<LinkSpec> links) {
  Config cfg;
  cfg.links = std::move(links);
  cfg.srt = o.srt;
  cfg.policy = o.policy;
  cfg.redundancy_budget = o.redundancy_budget;
  auto sender = Sender::create(std::move(cfg));
  if (!sender)
    return sender.error();
  return std::unique_ptr<Transport>(std::move(*sender));
}

// `o` has passed checkSendOptions().
Result<std::unique_ptr<Transport>> makeTransport(const SendOptions& o) {
  auto links = linkSpecs(o);
  if (!links)
    return links.error();
  if (o.mode == SendMode::kAdaptive)
    return makeScheduled<AdaptiveSender, AdaptiveSenderConfig>(o, std::move(*links));
  if (o.mode == SendMode::kSrtla)
    return makeScheduled<SrtlaSender, SrtlaSenderConfig>(o, std::move(*links));
  GroupSenderConfig cfg;
  cfg.mode = o.mode == SendMode::kBackup ? GroupMode::kBackup : GroupMode::kBroadcast;
  cfg.links = std::move(*links);
  cfg.srt = o.srt;
  auto group = GroupSender::create(std::move(cfg));
  if (!group)
    return group.error();
  return std::unique_ptr<Transport>(std::move(*group));
}

constexpr SendMode kModes[] = {SendMode::kBroadcast, SendMode::kBackup, SendMode::kAdaptive,
                               SendMode::kSrtla};

}  // namespace

const char* toString(SendMode mode) {
  switch (mode) {
    case SendMode::kBroadcast:
      return "broadcast";
    case SendMode::kBackup:
      return "backup";
    case SendMode::kAdaptive:
      return "adaptive";
    case SendMode::kSrtla:
      return "srtla";
  }
  return "?";
}

Result<SendMode> parseSendMode(std::string_view name) {
  std::string known;
  for (SendMode m : kModes) {
    if (name == toString(m)) {
      return m;
    }
    known += std::string(known.empty() ? "" : ", ") + toString(m);
  }
  return Error{"unknown mode '" + std::string(name) + "' (known: " + known + ")"};
}

Status checkSendOptions(const SendOptions& o) {
  const bool srtla = o.mode == SendMode::kSrtla;
  const bool adaptive = o.mode == SendMode::kAdaptive;
  auto links = linkSpecs(o);
  if (!links)
    return links.error();
  for (const auto& link : *links) {
    if (srtla != (link.scheme == "srtla")) {
      return Error{"link '" + link.text + "': " +
                   (srtla ? "srtla mode sends to an SRTLA receiver: links are srtla://HOST:PORT"
                          : "srtla:// links need --mode srtla")};
    }
    if (srtla && link.weight != 0)
      return Error{"link '" + link.text + "': weight= applies to backup mode only"};
    if (srtla && !link.srt.empty()) {
      return Error{"link '" + link.text +
                   "': SRT options in a link apply to adaptive links only; srtla mode has "
                   "one SRT connection: --latency, --passphrase apply to it"};
    }
    // A group member bound to a device (srt_config_add SRTO_BINDTODEVICE) broke at its
    // first packet in the one run tried; group modes refuse dev= until that is understood.
    if (!link.device.empty() && !adaptive && !srtla)
      return Error{"link '" + link.text + "': dev= works in adaptive and srtla modes only"};
    // A socket group has one set of SRT options for every member; an adaptive session has
    // one latency (its deadline) for every link.
    if (!adaptive && !srtla && !link.srt.empty()) {
      return Error{"link '" + link.text +
                   "': SRT options in a link apply to adaptive links "
                   "only; in " +
                   toString(o.mode) + " mode --latency, --passphrase apply to the whole group"};
    }
    if (adaptive && link.srt.latency) {
      return Error{"link '" + link.text +
                   "': latency= does not apply to one link: the "
                   "session has one latency, --latency"};
    }
  }
  if (adaptive || srtla) {
    if (auto s = sched::makeScheduler(o.policy); !s)
      return Error{"--policy: " + s.error().message};
    if (o.redundancy_budget < 0 || o.redundancy_budget > 1)
      return Error{"--redundancy-budget must be 0 to 100 (percent)"};
  }
  return okStatus();
}

Result<std::unique_ptr<SendSession>> SendSession::create(SendOptions options) {
  if (auto st = checkSendOptions(options); !st)
    return st.error();
  std::unique_ptr<SendSession> self(new SendSession(std::move(options)));
  auto transport = makeTransport(self->options_);
  if (!transport)
    return transport.error();
  self->transport_ = std::move(*transport);
  return self;
}

SendSession::~SendSession() = default;

void SendSession::stop() {
  stopping_ = true;
  if (Input* in = input_.load())
    in->stop();
}

Result<LinkChanges> SendSession::setLinks(const std::vector<std::string>& links) {
  SendOptions changed = options_;
  changed.links = links;
  if (auto st = checkSendOptions(changed); !st) {
    return st.error();
  }
  auto specs = linkSpecs(changed);
  if (!specs) {
    return specs.error();
  }
  if (!connected_ || stopping_) {
    return Error{"the sender is not sending (still connecting, or ending): try again"};
  }
  return transport_->setLinks(*specs);
}

nlohmann::json SendSession::statsJson(bool clear_interval) {
  nlohmann::json j = {{"mode", toString(options_.mode)},
                      {"input_bytes", input_bytes_.load()},
                      {"payloads", payloads_.load()}};
  j.update(transport_->statsJson(clear_interval));
  return j;
}

std::optional<std::uint64_t> SendSession::recommendedBitrateBps() const {
  return transport_->recommendedBitrateBps();
}

void SendSession::statsLoop() {
  using Clock = std::chrono::steady_clock;
  auto next_stats = Clock::now() + options_.stats_interval;
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    transport_->maintain();
    if (Clock::now() < next_stats)
      continue;
    next_stats += options_.stats_interval;
    auto j = statsJson(true);
    if (options_.stats)
      options_.stats->write("sender", j);
    if (options_.on_stats)
      options_.on_stats(j);
  }
}

Status SendSession::run(Input& input) {
  input_ = &input;
  if (stopping_)
    return okStatus();
  spdlog::info("sending {} in {} mode over {} link(s)", input.describe(), toString(options_.mode),
               options_.links.size());
  if (auto st = transport_->connect(options_.connect_timeout, &stopping_); !st) {
    return stopping_ ? okStatus() : st;
  }
  connected_ = true;
  std::thread stats_thread([this] { statsLoop(); });
  Packetizer packetizer;
  TsInspector inspector;
  // Only a scheduler that protects important packets needs to know which they are.
  const bool classify = transport_->usesImportance();
  Status result = okStatus();
  while (!stopping_) {
    auto chunk = input.read();
    if (!chunk) {
      result = chunk.error();
      break;
    }
    input_bytes_ += chunk->bytes.size();
    auto payloads = packetizer.push(chunk->bytes);
    if (chunk->end) {
      if (auto last = packetizer.flush(); !last.empty())
        payloads.push_back(std::move(last));
    }
    const auto source_time = std::chrono::steady_clock::now();
    for (const auto& p : payloads) {
      const auto importance = classify ? inspector.classify(p) : sched::Importance::kNone;
      transport_->send({p, source_time, importance});
      ++payloads_;
    }
    if (chunk->end)
      break;
  }
  if (packetizer.discardedBytes() > 0) {
    spdlog::warn("input was not clean MPEG-TS: {} bytes discarded while resynchronising",
                 packetizer.discardedBytes());
  }
  // Let the links deliver what they hold before closing (bounded).
  connected_ = false;  // no more link changes
  transport_->drain(options_.srt.latency * 4 + std::chrono::milliseconds(2000));
  auto final_stats = statsJson(false);
  final_stats["final"] = true;
  // What the run came to, in the log too: a run whose links took none of its payloads
  // (a member libsrt never sent over, patches/libsrt/0008) ended looking like any other.
  // (SRTLA mode counts SRT packets, not payloads: its stats say what it forwarded.)
  if (final_stats.contains("payloads_sent")) {
    const auto sent = final_stats.value("payloads_sent", std::uint64_t{0});
    const auto dropped = final_stats.value("payloads_dropped", std::uint64_t{0});
    if (dropped == 0) {
      spdlog::info("sent {} of {} payloads", sent, payloads_.load());
    } else {
      spdlog::warn("sent {} of {} payloads; {} dropped: no link could take them in time", sent,
                   payloads_.load(), dropped);
    }
  }
  stopping_ = true;
  stats_thread.join();
  if (options_.stats)
    options_.stats->write("sender", final_stats);
  if (options_.on_stats)
    options_.on_stats(final_stats);
  input_ = nullptr;
  return result;
}

}  // namespace bondcast::sender
