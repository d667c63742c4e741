// SPDX-License-Identifier: MPL-2.0
// SRTLA mode (issue 14): one SRT connection to any SRTLA receiver (BELABOX's srtla_rec,
// its forks, `bondcast recv --listen srtla://`), its datagrams spread over the links by
// bondcast's scheduler. libsrt sees one peer, a relay on loopback; the relay is the
// SRTLA sender: it registers each link with the receiver and, datagram by datagram,
// retransmissions included, puts each SRT packet on the link(s) the scheduler picks.
//
//   send() --srt_sendmsg2--> libsrt caller --UDP 127.0.0.1--> [relay: registration,
//   scheduler, per-link feedback] --one UDP socket per link (bind=, dev=)--> receiver
//
// What feeds the scheduler, per link (sched::LinkFeedback, as srt_bistats would give it):
// - held: the SRT data packets the link carried that neither the receiver's SRTLA ACK
//   (every 10 packets a link carried) nor SRT's cumulative ACK has confirmed: the send
//   buffer, its age, its size;
// - RTT: the round trip of the relay's own KEEPALIVEs (one per link every 20 ms, echoed
//   by every SRTLA receiver), smoothed as SRT smooths its RTT;
// - capacity: the highest rate its own SRTLA ACKs confirmed copies at over the last 2 s;
// - loss: a packet SRT retransmits (the receiver NAKed it) whose copy was not confirmed
//   by when it should have been, charged to the link(s) that carried it.
// Retransmissions: over links of different delays most NAKs are reordering (a packet on
// the slow link is overtaken), not loss. libsrt's retransmission of a packet is held back
// until the copy under way should have been confirmed (its link's RTT + 20 ms) and sent
// only if it was not; the receiver's reordering tolerance is then no longer what stands
// between the links' delay difference and a flood of useless retransmissions.
// A link is up once the receiver registered it (REG3) and down after 1.5 s without a
// datagram from the receiver; then it registers again. A receiver that forgot the group
// (REG_NGP, e.g. restarted) gets a new registration on every link.
//
// Threads: the relay thread owns the link sockets and the scheduler; send() calls libsrt
// from the session's thread; statsJson() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/srt/srt.h"
#include "common/srtla/wire.h"
#include "scheduler/config.h"
#include "scheduler/scheduler.h"
#include "sender/link_spec.h"
#include "sender/transport.h"

namespace bondcast::sender {

struct SrtlaSenderConfig {
  std::vector<LinkSpec> links;  // srtla://HOST:PORT, all to one receiver
  srt::CommonOptions srt;       // latency, passphrase, stream id of the one SRT connection
  std::string policy = "latency-aware";
  double redundancy_budget = sched::kDefaultOverheadBudget;
  std::chrono::milliseconds feedback_interval{10};
  std::chrono::milliseconds keepalive_interval{20};
  std::chrono::milliseconds link_timeout{1500};
};

class SrtlaSender final : public Transport {
 public:
  // Checks the links (they resolve, their devices exist) and the policy; opens the sockets.
  static Result<std::unique_ptr<SrtlaSender>> create(SrtlaSenderConfig config);
  ~SrtlaSender() override;
  SrtlaSender(const SrtlaSender&) = delete;
  SrtlaSender& operator=(const SrtlaSender&) = delete;

  Status connect(std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) override;
  void send(const OutPacket& packet) override;
  // Connects the SRT connection again when it broke (the relay registers links itself).
  void maintain() override;
  nlohmann::json statsJson(bool clear_interval) override;
  void drain(std::chrono::milliseconds timeout) override;
  // The links of an SRTLA connection are its group's registrations: changing them while
  // it runs is not supported yet (an error; nothing changes).
  Result<LinkChanges> setLinks(const std::vector<LinkSpec>& links) override;

 private:
  struct Link;
  struct Relay;
  explicit SrtlaSender(SrtlaSenderConfig config);
  // A new SRT caller to the relay, connecting (non-blocking).
  Result<srt::Socket> startSrt(std::chrono::milliseconds conntimeo) const;

  SrtlaSenderConfig config_;
  std::unique_ptr<Relay> relay_;
  std::thread thread_;
  std::mutex sock_mu_;  // sock_ is replaced by maintain() when the connection broke
  srt::Socket sock_;    // the SRT caller, connected to the relay
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<bool> connected_{false};  // connect() succeeded: maintain() may reconnect
  std::atomic<bool> draining_{false};
  bool reconnecting_ = false;                             // sock_mu_
  std::chrono::steady_clock::time_point next_attempt_{};  // sock_mu_
};

}  // namespace bondcast::sender
