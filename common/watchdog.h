// SPDX-License-Identifier: MPL-2.0
// Runs work that may never return (a library's shutdown that can deadlock) with a
// watchdog: if `work` has not returned after `limit`, `if_late` is called on the
// watchdog's thread while `work` goes on. `if_late` may end the process (std::_Exit);
// if it returns, this waits for `work` as before.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace bondcast {

inline void runWithWatchdog(const std::function<void()>& work, std::chrono::milliseconds limit,
                            const std::function<void()>& if_late) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, limit, [&] { return done; })) {
      lock.unlock();
      if_late();
    }
  });
  work();
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_one();
  watchdog.join();
}

}  // namespace bondcast
