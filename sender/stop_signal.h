// SPDX-License-Identifier: MPL-2.0
// A stop signal for a thread that waits on a timer: set once from any thread; a wait ends
// early when it is set. Used by the FFmpeg inputs (with FFmpeg's interrupt callback) and by
// the adaptive sender's feedback worker.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace bondcast::sender {

class StopSignal {
 public:
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() const { return stopped_.load(); }
  // Waits until `due` or stop(); returns false if stopped.
  bool waitUntil(std::chrono::steady_clock::time_point due) {
    std::unique_lock lock(mutex_);
    cv_.wait_until(lock, due, [this] { return stopped_.load(); });
    return !stopped_.load();
  }
  // For AVIOInterruptCB: opaque is a StopSignal*; nonzero aborts blocking FFmpeg I/O.
  static int interruptCallback(void* opaque) {
    return static_cast<const StopSignal*>(opaque)->stopped() ? 1 : 0;
  }

 private:
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace bondcast::sender
