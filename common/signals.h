// SPDX-License-Identifier: MPL-2.0
// Clean shutdown on SIGINT/SIGTERM: the signals are blocked in every thread and one
// thread waits for them with sigwait(), then calls the handler (which sets flags and
// wakes loops; it runs on that thread, not in a signal context). SIGPIPE is ignored
// so a closed stdout/pipe output is an error return, not a crash.
#pragma once

#include <functional>
#include <mutex>

namespace bondcast {

// Call from main() before any other thread starts. The handler is called for the first
// SIGINT or SIGTERM; a second one ends the process at once (exit code 128 + signal).
// With `reload`, SIGHUP is taken too and calls it, each time, on the same thread (so a
// stop request waits for a reload in progress); without, SIGHUP keeps its default.
void installStopSignals(std::function<void(int signo)> handler,
                        std::function<void()> reload = nullptr);

// What a stop request (a signal, a timer) stops: a T with stop(), while it lives. request()
// and the target's coming and going exclude each other, so a request never reaches a
// target being destroyed (ThreadSanitizer caught the signal thread notifying a sender's
// input while the main thread destroyed it); a request made before a target is set stops
// it when it is set.
template <class T>
class StopTarget {
 public:
  void request() {
    std::lock_guard lock(mu_);
    requested_ = true;
    if (target_)
      target_->stop();
  }
  bool requested() {
    std::lock_guard lock(mu_);
    return requested_;
  }
  // Sets the target until the returned guard goes: declare the guard after the target.
  class Scope {
   public:
    Scope(StopTarget& owner, T& target) : owner_(owner) { owner_.set(&target); }
    ~Scope() { owner_.set(nullptr); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    StopTarget& owner_;
  };

 private:
  void set(T* target) {
    std::lock_guard lock(mu_);
    target_ = target;
    if (target_ && requested_)
      target_->stop();
  }
  std::mutex mu_;
  T* target_ = nullptr;
  bool requested_ = false;
};

}  // namespace bondcast
