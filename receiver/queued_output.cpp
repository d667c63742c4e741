// SPDX-License-Identifier: MPL-2.0
#include "receiver/queued_output.h"

#include <spdlog/spdlog.h>

namespace bondcast::receiver {

QueuedOutput::QueuedOutput(std::unique_ptr<Output> inner, Options options)
    : inner_(std::move(inner)), options_(options), what_(inner_->describe()) {
  if (inner_->mayBlock())
    thread_ = std::thread([this] { run(); });
}

QueuedOutput::~QueuedOutput() {
  if (!thread_.joinable())
    return;
  std::unique_lock lock(mu_);
  closing_ = true;
  wake_.notify_one();
  while (!done_) {
    const std::uint64_t before = counters_.written_payloads;
    if (progress_.wait_for(lock, options_.close_grace,
                           [&] { return done_ || counters_.written_payloads != before; })) {
      continue;
    }
    spdlog::warn("output {}: not taking data; {} queued bytes dropped at close", what_,
                 counters_.queued_bytes);
    lock.unlock();
    inner_->interrupt();
    thread_.join();
    return;
  }
  lock.unlock();
  thread_.join();
}

Status QueuedOutput::write(std::span<const std::uint8_t> payload) {
  std::lock_guard lock(mu_);
  if (error_) {
    ++counters_.dropped_payloads;
    counters_.dropped_bytes += payload.size();
    return Error{*error_};
  }
  if (!thread_.joinable()) {  // an output that never blocks: written here
    Status st = inner_->write(payload);
    if (!st) {
      error_ = st.error().message;
      return st;
    }
    ++counters_.written_payloads;
    return okStatus();
  }
  if (counters_.queued_bytes + payload.size() > options_.max_bytes) {
    if (!dropping_) {
      dropping_ = true;
      dropped_at_start_ = counters_.dropped_payloads;
      spdlog::warn("output {}: not keeping up, {} bytes queued; dropping payloads until it does",
                   what_, counters_.queued_bytes);
    }
    ++counters_.dropped_payloads;
    counters_.dropped_bytes += payload.size();
    return okStatus();
  }
  queue_.emplace_back(payload.begin(), payload.end());
  counters_.queued_bytes += payload.size();
  if (queue_.size() == 1)
    wake_.notify_one();
  return okStatus();
}

QueuedOutput::Counters QueuedOutput::counters() const {
  std::lock_guard lock(mu_);
  Counters c = counters_;
  c.failed = error_.has_value();
  return c;
}

void QueuedOutput::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return !queue_.empty() || closing_; });
    if (queue_.empty())
      break;
    std::vector<std::uint8_t> payload = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Status st = inner_->write(payload);
    lock.lock();
    counters_.queued_bytes -= payload.size();
    if (!st) {
      error_ = st.error().message;
      for (const auto& p : queue_) {
        ++counters_.dropped_payloads;
        counters_.dropped_bytes += p.size();
      }
      counters_.queued_bytes = 0;
      queue_.clear();
      break;  // the receiver logs the error at its next write()
    }
    ++counters_.written_payloads;
    // Caught up: half the queue free again.
    if (dropping_ && counters_.queued_bytes <= options_.max_bytes / 2) {
      dropping_ = false;
      spdlog::info("output {}: keeping up again after dropping {} payloads", what_,
                   counters_.dropped_payloads - dropped_at_start_);
    }
    progress_.notify_all();
  }
  done_ = true;
  progress_.notify_all();
}

}  // namespace bondcast::receiver
