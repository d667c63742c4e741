// SPDX-License-Identifier: MPL-2.0
// What a libsrt callback's opaque pointer stands for. libsrt reports a failed group member
// to the group's connect callback (srt_connect_callback) from its receive thread after it
// has let go of the member's locks: the report can come after the group is closed, even
// during srt_cleanup(), when the object given as the opaque is gone. A refused broadcast
// sender that gave up at once crashed that way (issue 16). So the opaque is a key into this
// table: an object leaves it before it is destroyed, and a callback for a key that has
// left finds nothing.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace bondcast::srt {

template <class T>
class CallbackTargets {
 public:
  // One table per T, never destroyed: libsrt's threads may outlive static destruction.
  static CallbackTargets& instance() {
    static auto* table = new CallbackTargets;
    return *table;
  }

  // The key to give libsrt as the opaque for `target`.
  void* add(T* target) {
    std::lock_guard lock(mu_);
    const std::uintptr_t key = next_++;
    targets_.emplace(key, target);
    return reinterpret_cast<void*>(key);
  }

  // Once this returns no callback runs on the target: one running now is waited for.
  void remove(void* key) {
    std::lock_guard lock(mu_);
    targets_.erase(reinterpret_cast<std::uintptr_t>(key));
  }

  // Calls f(target) if the key's target has not left, holding the table throughout (f
  // must not add or remove). Returns whether it did.
  template <class F>
  bool with(void* key, F&& f) {
    std::lock_guard lock(mu_);
    auto it = targets_.find(reinterpret_cast<std::uintptr_t>(key));
    if (it == targets_.end()) {
      return false;
    }
    f(*it->second);
    return true;
  }

 private:
  CallbackTargets() = default;
  std::mutex mu_;
  std::unordered_map<std::uintptr_t, T*> targets_;
  std::uintptr_t next_ = 1;  // 0 would be a null opaque
};

}  // namespace bondcast::srt
