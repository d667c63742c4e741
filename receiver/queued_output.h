// SPDX-License-Identifier: MPL-2.0
// An output written on a thread of its own, so that one output that stops taking data (a
// pipe or FIFO nobody reads, a player that stalls, a full disk) holds up nothing else:
// not the other streams of the receiver, not the links' SRT traffic (issue 16).
//
// write() copies the payload into a bounded queue and returns at once; the writer thread
// hands the payloads to the wrapped output in order. While the queue holds max_bytes,
// new payloads are dropped and counted, with one log line when dropping starts and one
// when the output has caught up. The first error of the wrapped output ends it (as for
// an unqueued output): what is queued is dropped and every later write() fails with
// that error.
//
// Closing (the destructor) writes what is queued while the output takes it, and gives
// up on the rest when `close_grace` passes with no payload written: a blocked output is
// then interrupted (Output::interrupt), so the receiver always ends.
//
// An output that never blocks (Output::mayBlock() false: a regular file, UDP, SRT) is
// written on the caller's thread, with no queue and no thread: a thread woken for every
// payload cost the adaptive receiver enough CPU on 2 cores to lose payloads in
// tests/e2e/adaptive_test.cpp.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "receiver/output.h"

namespace bondcast::receiver {

class QueuedOutput final : public Output {
 public:
  struct Options {
    std::size_t max_bytes = std::size_t{16} << 20;  // 16 MiB: 13 s of a 10 Mbit/s stream
    std::chrono::milliseconds close_grace{2000};
  };
  struct Counters {
    std::uint64_t written_payloads = 0;
    std::uint64_t dropped_payloads = 0;  // the queue was full, or the output had failed
    std::uint64_t dropped_bytes = 0;
    std::size_t queued_bytes = 0;
    bool failed = false;
  };

  QueuedOutput(std::unique_ptr<Output> inner, Options options);
  ~QueuedOutput() override;
  QueuedOutput(const QueuedOutput&) = delete;
  QueuedOutput& operator=(const QueuedOutput&) = delete;

  // Never blocks. Fails only once the wrapped output has failed.
  Status write(std::span<const std::uint8_t> payload) override;
  std::string describe() const override { return what_; }
  Counters counters() const;

 private:
  void run();

  std::unique_ptr<Output> inner_;
  const Options options_;
  const std::string what_;
  mutable std::mutex mu_;
  std::condition_variable wake_;                 // the writer: a payload was queued, or closing
  std::condition_variable progress_;             // the destructor: a payload was written, or done
  std::deque<std::vector<std::uint8_t>> queue_;  // guarded by mu_
  Counters counters_;  // guarded by mu_; `failed` is error_'s, filled in by counters()
  std::optional<std::string> error_;    // guarded by mu_
  bool dropping_ = false;               // guarded by mu_
  std::uint64_t dropped_at_start_ = 0;  // guarded by mu_: when dropping began
  bool closing_ = false;                // guarded by mu_
  bool done_ = false;                   // guarded by mu_
  std::thread thread_;                  // only for an output that may block
};

}  // namespace bondcast::receiver
