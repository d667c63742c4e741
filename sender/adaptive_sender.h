// SPDX-License-Identifier: MPL-2.0
// Adaptive mode: one plain SRT connection per link (live mode, message API) and
// bondcast's scheduler choosing, packet by packet, which link(s) carry each payload.
// Every copy carries bondcast's header (common/wire.h) and the packet's source time
// (SRT_MSGCTRL.srctime), the same on every link.
//
// Threads: send() schedules each payload and sends its copies on the caller's thread. One
// worker thread connects and reconnects links (backoff 250 ms doubling to 5 s:
// sender/link_engine.h), reads every link's srt_bistats and the receiver's receipts
// (common/wire.h: what arrived) each feedback interval (10 ms) into the scheduler and sends
// what the scheduler re-sends (packets a failed or stalled link still held). Both hold mu_
// while they work; every link's socket is non-blocking. statsJson() and setLinks() may be
// called from any thread.
//
// setLinks() adds links to the scheduler (at most sched::kMaxLinks ids; a closed link's id
// goes to a new link once its copies are all past their deadline) and removes links in
// three steps on the worker: once another link is
// up (or after a bound), the scheduler sets the removed one kDown, which re-sends what it
// held unacknowledged on the others; it takes nothing new; its socket is closed once its
// send buffer is empty and twice the latency has passed (the receiver has played out what
// it delivered), or after a bound.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/srt/link_stats.h"
#include "common/srt/srt.h"
#include "scheduler/config.h"
#include "scheduler/deadline.h"
#include "scheduler/scheduler.h"
#include "sender/link_spec.h"
#include "sender/stop_signal.h"
#include "sender/transport.h"

namespace bondcast::sender {

struct AdaptiveSenderConfig {
  std::vector<LinkSpec> links;
  srt::CommonOptions srt;  // latency (the budget), passphrase, the user's stream id
  std::string policy = "latency-aware";
  double redundancy_budget = sched::kDefaultOverheadBudget;  // extra copies / payload bytes
  std::chrono::milliseconds feedback_interval{10};
  std::uint32_t session = 0;  // 0: a random one
};

class AdaptiveSender final : public Transport {
 public:
  // Checks the links and the policy name (an unknown one lists the known ones).
  static Result<std::unique_ptr<AdaptiveSender>> create(AdaptiveSenderConfig config);
  ~AdaptiveSender() override;

  Status connect(std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) override;
  void send(const OutPacket& packet) override;
  void maintain() override {}  // the worker reconnects links itself
  nlohmann::json statsJson(bool clear_interval) override;
  void drain(std::chrono::milliseconds timeout) override;
  Result<LinkChanges> setLinks(const std::vector<LinkSpec>& links) override;

  bool usesImportance() const override { return true; }
  // What an encoder should produce now: the capacity the links are measured to deliver,
  // less the redundancy budget and a safety margin; while packets are being dropped as
  // too late (overload), at most 80% of what got through in the last second. 0 until a
  // link was measured.
  std::optional<std::uint64_t> recommendedBitrateBps() const override {
    return recommended_bps_.load();
  }

  std::uint32_t session() const { return config_.session; }

 private:
  struct Link;
  struct Stored;  // a recent packet, kept for re-sending

  explicit AdaptiveSender(AdaptiveSenderConfig config);
  void workerLoop();
  void tick(sched::TimePoint now);
  void pollLink(Link& link, sched::TimePoint now);
  void readReceipts(Link& link, sched::TimePoint now);
  void startConnect(Link& link, sched::TimePoint now);
  void linkFailed(Link& link, const std::string& why, sched::TimePoint now);
  // A link for `spec` (its addresses resolved, its device checked); no id yet.
  Result<std::unique_ptr<Link>> makeLink(const LinkSpec& spec) const;
  // The removal steps of a link setLinks() left out (pollLink(), mu_ held).
  void pollRemoved(Link& link, sched::TimePoint now);
  void closeRemoved(Link& link);
  void schedule(const OutPacket& packet, sched::TimePoint now);
  void transmit(const Stored& packet, sched::LinkId link, std::uint8_t flags, sched::TimePoint now);
  void sendResends(sched::TimePoint now);
  const Stored* stored(std::uint64_t seq) const;
  void prune(sched::TimePoint now);
  void updateRecommendation(sched::TimePoint now);
  // Payloads never sent: no link could deliver them in time, or none was connected.
  std::uint64_t droppedPayloads() const;

  AdaptiveSenderConfig config_;
  std::unique_ptr<sched::Scheduler> scheduler_;
  sched::DeadlineClock deadlines_;

  // Guarded by mu_: links, scheduler, stored packets, counters. The worker holds it
  // while it works, not while it waits.
  mutable std::mutex mu_;
  std::mutex set_links_mu_;  // one setLinks() at a time
  std::vector<std::unique_ptr<Link>> links_;
  std::deque<Stored> stored_;  // by seq, contiguous
  std::uint64_t next_seq_ = 0;
  std::uint64_t payloads_ = 0;       // handed to the scheduler
  std::uint64_t payload_bytes_ = 0;  // ... their bytes
  // The last second of (payloads, payload bytes, dropped), for the recommendation.
  struct Sample {
    sched::TimePoint at;
    std::uint64_t payload_bytes;
    std::uint64_t payloads;
    std::uint64_t dropped;
  };
  std::deque<Sample> recent_;
  bool overloaded_ = false;
  std::uint64_t copies_sent_ = 0;
  std::uint64_t copies_refused_ = 0;  // srt_sendmsg2 failed
  std::uint64_t resent_ = 0;
  std::uint64_t reconnects_ = 0;
  std::uint64_t feedback_rounds_ = 0;
  std::chrono::steady_clock::duration feedback_time_{};

  StopSignal stop_;  // ends the worker

  std::atomic<int> links_up_{0};
  std::atomic<std::uint64_t> recommended_bps_{0};
  std::atomic<bool> draining_{false};
  std::thread worker_;
};

}  // namespace bondcast::sender
