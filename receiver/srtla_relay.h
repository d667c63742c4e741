// SPDX-License-Identifier: MPL-2.0
// `bondcast recv --listen srtla://[ADDR]:PORT` (issue 14): takes SRTLA senders (BELABOX,
// Moblin, IRL Pro, the reference srtla_send) and hands each SRTLA group's one SRT
// connection to the receiver's own SRT listener on loopback, so a group becomes a stream
// like any SRT caller's: same outputs, naming, passphrase, stats.
//
//   links --UDP--> [relay: registry, per link ACKs, keepalive echo] --one UDP socket per
//   group--> SRT listener (127.0.0.1, reordering tolerated) --> streams, outputs
//
// What goes back: SRT ACKs from the listener to every link of the group (any may carry
// the next packet), other SRT control (NAK, handshake, keepalive) to the link that was
// last active; an SRTLA ACK to a link after every 10 SRT data packets it carried (their
// sequence numbers); a KEEPALIVE echoed unchanged to its sender; registration answers
// (common/srtla/registry.h). Malformed datagrams, unregistered senders and refusals are
// counted and dropped; memory stays bounded (the registry's limits).
//
// Threads: one, started by create() and stopped by the destructor.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/fd.h"
#include "common/result.h"
#include "common/srt/srt.h"
#include "common/srtla/registry.h"

namespace bondcast::receiver {

class SrtlaRelay {
 public:
  // Binds `listen` (dual-stack for [::]); forwards to the SRT listener at `srt_listener`.
  static Result<std::unique_ptr<SrtlaRelay>> create(const srt::SockAddr& listen,
                                                    const srt::SockAddr& srt_listener);
  ~SrtlaRelay();
  SrtlaRelay(const SrtlaRelay&) = delete;
  SrtlaRelay& operator=(const SrtlaRelay&) = delete;

  std::uint16_t port() const { return port_; }
  // Counters and per-group, per-link figures: {"groups": [...], "malformed": N, ...}.
  nlohmann::json statsJson() const;

 private:
  struct GroupState;
  struct LinkAcks {
    std::uint32_t seqs[srtla::kAckSeqs] = {};
    std::size_t count = 0;
  };

  SrtlaRelay(Fd fd, std::uint16_t port, const srt::SockAddr& srt_listener);
  void run();
  void onPublic(const srtla::Registry::Address& from, std::span<const std::uint8_t> data,
                srtla::Registry::TimePoint now);
  void onGroup(GroupState& g, std::span<const std::uint8_t> data);
  void sendTo(const srtla::Registry::Address& to, std::span<const std::uint8_t> data);
  GroupState* stateFor(std::uint64_t number);
  void expire(srtla::Registry::TimePoint now);

  Fd fd_;
  std::uint16_t port_ = 0;
  srt::SockAddr srt_listener_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mu_;  // guards everything below (the thread, and statsJson)
  srtla::Registry registry_;
  std::map<std::uint64_t, std::unique_ptr<GroupState>> states_;  // by group number
  std::map<srtla::Registry::Address, LinkAcks> acks_;
  std::uint64_t malformed_ = 0;
  std::uint64_t forwarded_ = 0;  // SRT packets from links to the listener
  std::uint64_t returned_ = 0;   // SRT packets from the listener to links
  std::uint64_t keepalives_ = 0;
  std::uint64_t acks_sent_ = 0;
  std::uint64_t send_errors_ = 0;

  std::thread thread_;
};

}  // namespace bondcast::receiver
