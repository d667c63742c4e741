#include "sender/send_session.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "sender/packetizer.h"

namespace bondcast::sender {

Result<GroupSenderConfig> groupConfigFrom(const SendOptions& o) {
  GroupSenderConfig cfg;
  if (o.mode == "broadcast") {
    cfg.mode = GroupMode::kBroadcast;
  } else if (o.mode == "backup") {
    cfg.mode = GroupMode::kBackup;
  } else {
    return Error{"unknown mode '" + o.mode + "' (known: broadcast, backup)"};
  }
  if (o.links.empty())
    return Error{"at least one --link is needed"};
  for (const auto& text : o.links) {
    auto link = parseLinkSpec(text);
    if (!link)
      return link.error();
    cfg.links.push_back(*link);
  }
  cfg.srt = o.srt;
  return cfg;
}

Result<std::unique_ptr<SendSession>> SendSession::create(SendOptions options) {
  auto cfg = groupConfigFrom(options);
  if (!cfg)
    return cfg.error();
  std::unique_ptr<SendSession> self(new SendSession(std::move(options)));
  auto group = GroupSender::create(std::move(*cfg));
  if (!group)
    return group.error();
  self->group_ = std::move(*group);
  return self;
}

SendSession::~SendSession() = default;

void SendSession::stop() {
  stopping_ = true;
  if (Input* in = input_.load())
    in->stop();
}

nlohmann::json SendSession::statsJson(bool clear_interval) {
  GroupStats gs = group_->stats(clear_interval);
  nlohmann::json links = nlohmann::json::array();
  for (const auto& l : gs.links)
    links.push_back(srt::toJson(l));
  nlohmann::json j = {{"mode", options_.mode},
                      {"input_bytes", input_bytes_.load()},
                      {"payloads", payloads_.load()},
                      {"payloads_sent", gs.payloads_sent},
                      {"payloads_dropped", gs.payloads_dropped},
                      {"reconnects", gs.reconnects},
                      {"links", links}};
  if (options_.mode == "backup")
    j["active_link"] = gs.active_link;
  return j;
}

void SendSession::statsLoop() {
  using Clock = std::chrono::steady_clock;
  auto next_stats = Clock::now() + options_.stats_interval;
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    group_->maintain();
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
  spdlog::info("sending {} in {} mode over {} link(s)", input.describe(), options_.mode,
               options_.links.size());
  if (auto st = group_->connect(options_.connect_timeout, &stopping_); !st) {
    return stopping_ ? okStatus() : st;
  }
  std::thread stats_thread([this] { statsLoop(); });
  Packetizer packetizer;
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
    for (const auto& p : payloads) {
      (void)group_->send(p);
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
  group_->drain(options_.srt.latency * 4 + std::chrono::milliseconds(2000));
  auto final_stats = statsJson(false);
  final_stats["final"] = true;
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
