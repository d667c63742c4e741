// SPDX-License-Identifier: MPL-2.0
// The link emulator's socket shell: one UDP relay per link on one thread.
//
//   sender ──> listen socket ──[fwd EmulatedLink]──> upstream socket ──> receiver (`to`)
//   sender <── listen socket <──[rev EmulatedLink]── upstream socket <── receiver
//
// Each link has its own listen socket (where the sender sends) and its own upstream
// socket (bound to `via`, connected to `to`), so the receiver sees one source per
// link. Datagrams arriving on the upstream socket go back to the last address the
// listen socket received from. Links with `from=` and the same `listen` share one
// listen socket instead (an SRTLA sender sends every link to one address): each
// datagram goes to the link whose `from` is its source address (others are dropped
// and counted, EmulatorStats::unmatched_source), and a link's reverse direction goes
// out of the shared socket to the address:port that link last heard from.
// All the impairment decisions are the EmulatedLink's; this class owns the sockets,
// the thread and the clock (CLOCK_MONOTONIC, the same as std::chrono::steady_clock):
// epoll over every socket, waking (epoll_pwait2) at the earliest model wake-up,
// recvmmsg/sendmmsg in batches, a preallocated packet pool.
//
// Usage (tests, harnesses):
//   Emulator emu(config);
//   if (auto s = emu.start(); !s) ...;      // binds every socket, then runs
//   emu.listenPort(0);                      // the bound port (listen port 0 = any)
//   ... traffic ...
//   emu.stop();                             // idempotent; also done by the destructor
//   EmulatorStats st = emu.stats();         // any time, from any thread
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "common/result.h"
#include "eval/emulator/config.h"
#include "eval/emulator/stats.h"

namespace bondcast::emu {

class Emulator {
 public:
  explicit Emulator(NetworkConfig config);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Validates the configuration, creates and binds every socket and starts the
  // thread. Model time zero (the origin of events and traces) is this call.
  // Errors: "link 1: bind 127.0.0.1:7002: Address already in use". Call once.
  [[nodiscard]] Status start();
  // Stops the thread and closes nothing (ports stay queryable); packets still in
  // queues are dropped uncounted. Safe to call twice or without start().
  void stop();

  // A consistent snapshot of every counter; thread-safe.
  EmulatorStats stats() const;
  // After start(): the ports bound, for link i (0-based, in configuration order);
  // links sharing a listen socket (from=) return the same listen port.
  std::uint16_t listenPort(std::size_t link) const;
  std::uint16_t upstreamPort(std::size_t link) const;
  // After start(): the steady_clock time of model time zero.
  std::chrono::steady_clock::time_point epoch() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bondcast::emu
