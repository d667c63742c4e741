// SPDX-License-Identifier: MPL-2.0
// A bounded queue of byte chunks between a GStreamer streaming thread and an engine
// thread (the sender's input thread, the receiver's thread).
//
// Full queue: kBlock makes push() wait for room (the sink: back-pressure upstream);
// kDropOldest discards the oldest chunks (the source: the receiver must not stall).
// setFlushing() wakes push() and a pop() that honours flushing (GStreamer unlock);
// finish() ends the stream after what is queued, close() ends it at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace bondcast::gst {

class ByteQueue {
 public:
  enum class WhenFull { kBlock, kDropOldest };
  enum class Push { kOk, kFlushing, kClosed };
  enum class Pop { kData, kEnd, kFlushing };

  ByteQueue(std::size_t max_bytes, WhenFull when_full) : max_(max_bytes), when_full_(when_full) {}

  Push push(std::vector<std::uint8_t> chunk) {
    std::unique_lock lock(mu_);
    if (when_full_ == WhenFull::kBlock) {
      cv_.wait(lock,
               [&] { return flushing_ || ended_ || bytes_ + chunk.size() <= max_ || q_.empty(); });
    } else {
      while (!q_.empty() && bytes_ + chunk.size() > max_) {
        dropped_bytes_ += q_.front().size();
        bytes_ -= q_.front().size();
        q_.pop_front();
      }
    }
    if (ended_)
      return Push::kClosed;
    if (flushing_)
      return Push::kFlushing;
    bytes_ += chunk.size();
    q_.push_back(std::move(chunk));
    cv_.notify_all();
    return Push::kOk;
  }

  // Moves queued chunks (at least one, up to about max_bytes) into `out`.
  Pop pop(std::vector<std::uint8_t>& out, std::size_t max_bytes, bool honour_flushing) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty() || ended_ || (honour_flushing && flushing_); });
    if (honour_flushing && flushing_)
      return Pop::kFlushing;
    if (q_.empty())
      return Pop::kEnd;
    out.clear();
    while (!q_.empty() && (out.empty() || out.size() + q_.front().size() <= max_bytes)) {
      out.insert(out.end(), q_.front().begin(), q_.front().end());
      bytes_ -= q_.front().size();
      q_.pop_front();
    }
    cv_.notify_all();
    return Pop::kData;
  }

  void setFlushing(bool flushing) {
    std::lock_guard lock(mu_);
    flushing_ = flushing;
    cv_.notify_all();
  }
  // End of stream once the queued chunks are popped.
  void finish() {
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }
  // End of stream now: queued chunks are discarded.
  void close() {
    std::lock_guard lock(mu_);
    ended_ = true;
    q_.clear();
    bytes_ = 0;
    cv_.notify_all();
  }
  void clear() {
    std::lock_guard lock(mu_);
    q_.clear();
    bytes_ = 0;
    cv_.notify_all();
  }
  std::uint64_t droppedBytes() const {
    std::lock_guard lock(mu_);
    return dropped_bytes_;
  }

 private:
  const std::size_t max_;
  const WhenFull when_full_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::uint8_t>> q_;
  std::size_t bytes_ = 0;
  std::uint64_t dropped_bytes_ = 0;
  bool flushing_ = false;
  bool ended_ = false;
};

}  // namespace bondcast::gst
