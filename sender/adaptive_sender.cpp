// SPDX-License-Identifier: MPL-2.0
#include "sender/adaptive_sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <random>

#include "common/srt/adaptive_link.h"
#include "common/srt_uri.h"
#include "common/wire.h"
#include "scheduler/factory.h"
#include "sender/input.h"
#include "sender/link_engine.h"

namespace bondcast::sender {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

constexpr int kMaxDatagram = static_cast<int>(wire::kHeaderBytes + kPayloadBytes);
// Share of the measured capacity recommended to an encoder: headroom for the variation
// of cellular links and for SRT's retransmissions.
constexpr double kRecommendHeadroom = 0.8;
// Overload (packets dropped as too late) is judged over this long.
constexpr std::chrono::seconds kOverloadWindow{1};
// A removed link is kept carrying the stream until another link is up, at most this long.
constexpr milliseconds kRemovalBound{10000};
// A closed link's id goes to a new link no sooner than twice the latency and this after
// it closed: every copy it carried is past its deadline then.
constexpr milliseconds kIdReuseDelay{1000};

std::uint8_t wireFlags(sched::Importance importance) {
  std::uint8_t flags = 0;
  if (has(importance, sched::Importance::kKeyframe)) {
    flags |= wire::kFlagKeyframe;
  }
  if (has(importance, sched::Importance::kParameterSets)) {
    flags |= wire::kFlagParameterSets;
  }
  if (has(importance, sched::Importance::kAudio)) {
    flags |= wire::kFlagAudio;
  }
  return flags;
}

std::uint32_t randomSession() {
  std::random_device rd;
  std::uint32_t s = 0;
  while (s == 0) {
    s = rd();
  }
  return s;
}

std::int64_t micros(Clock::time_point t) {
  return duration_cast<microseconds>(t.time_since_epoch()).count();
}

sched::LinkFeedback feedbackFrom(const SRT_TRACEBSTATS& st) {
  sched::LinkFeedback f;
  f.rtt = microseconds(static_cast<std::int64_t>(st.msRTT * 1000));
  f.send_buffer_bytes = static_cast<std::uint64_t>(std::max(st.byteSndBuf, 0));
  f.send_buffer_packets = static_cast<std::uint64_t>(std::max(st.pktSndBuf, 0));
  f.send_buffer_time = milliseconds(std::max(st.msSndBuf, 0));
  f.flight_packets = static_cast<std::uint64_t>(std::max(st.pktFlightSize, 0));
  f.lost_packets_total = static_cast<std::uint64_t>(std::max(st.pktSndLossTotal, 0));
  f.nak_reports_total = static_cast<std::uint64_t>(std::max(st.pktRecvNAKTotal, 0));
  f.retransmitted_packets_total = static_cast<std::uint64_t>(std::max(st.pktRetransTotal, 0));
  f.dropped_packets_total = static_cast<std::uint64_t>(std::max(st.pktSndDropTotal, 0));
  f.bandwidth_bps = st.mbpsBandwidth * 1e6;
  return f;
}

}  // namespace

struct AdaptiveSender::Stored {
  std::uint64_t seq = 0;
  Clock::time_point source_time{};
  Clock::time_point deadline{};  // its playout time at the receiver (DeadlineClock)
  sched::Importance importance = sched::Importance::kNone;
  std::vector<std::uint8_t> payload;
  // As the scheduler sees it: one link's datagram (header + payload).
  sched::Packet packet() const {
    return {seq, static_cast<std::uint32_t>(wire::kHeaderBytes + payload.size()), deadline,
            importance};
  }
};

struct AdaptiveSender::Link {
  LinkSpec spec;
  sched::LinkId id = 0;
  srt::SockAddr peer;
  std::optional<srt::SockAddr> bind;
  srt::Socket sock;
  LinkConnection conn;
  std::int64_t connected_srt_us = 0;  // libsrt's clock when the connection was seen up
  std::uint64_t copies = 0;
  std::uint64_t refused = 0;
  std::uint64_t receipts = 0;      // from the receiver, taken
  std::uint64_t bad_receipts = 0;  // malformed, or another session's
  srt::LinkStats last_stats;       // for the stats record
  // setLinks() left it out then; from drain_from on the scheduler has it down; once
  // closed, the slot stays (ids index links_) but the link is gone.
  std::optional<Clock::time_point> removed_at;
  std::optional<Clock::time_point> drain_from;
  bool closed = false;
  Clock::time_point closed_at{};
};

AdaptiveSender::AdaptiveSender(AdaptiveSenderConfig config)
    : config_(std::move(config)), deadlines_(config_.srt.latency) {}

AdaptiveSender::~AdaptiveSender() {
  stop_.stop();
  if (worker_.joinable()) {
    worker_.join();
  }
}

Result<std::unique_ptr<AdaptiveSender>> AdaptiveSender::create(AdaptiveSenderConfig config) {
  if (config.links.empty()) {
    return Error{"at least one --link is needed"};
  }
  if (config.links.size() > sched::kMaxLinks) {
    return Error{"at most " + std::to_string(sched::kMaxLinks) + " links in adaptive mode"};
  }
  if (config.redundancy_budget < 0 || config.redundancy_budget > 1) {
    return Error{"redundancy budget must be 0% to 100%"};
  }
  if (config.session == 0) {
    config.session = randomSession();
  }
  sched::SchedulerConfig sc;
  sc.overhead_budget = config.redundancy_budget;
  auto scheduler = sched::makeScheduler(config.policy, sc);
  if (!scheduler) {
    return scheduler.error();
  }
  std::unique_ptr<AdaptiveSender> self(new AdaptiveSender(std::move(config)));
  self->scheduler_ = std::move(*scheduler);
  const auto now = Clock::now();
  for (const auto& spec : self->config_.links) {
    auto link = self->makeLink(spec);
    if (!link) {
      return link.error();
    }
    (*link)->id = self->scheduler_->addLink({spec.text, spec.cost}, now);
    self->links_.push_back(std::move(*link));
  }
  return self;
}

Result<std::unique_ptr<AdaptiveSender::Link>> AdaptiveSender::makeLink(const LinkSpec& spec) const {
  auto link = std::make_unique<Link>();
  link->spec = spec;
  auto peer = srt::resolve(spec.host, spec.port, false);
  if (!peer) {
    return Error{"link '" + spec.text + "': " + peer.error().message};
  }
  link->peer = *peer;
  if (auto st = checkLinkDevice(spec); !st) {
    return st.error();
  }
  if (!spec.bind_host.empty()) {
    auto bind = srt::resolve(spec.bind_host, spec.bind_port, false);
    if (!bind) {
      return Error{"link '" + spec.text + "' bind: " + bind.error().message};
    }
    link->bind = *bind;
  }
  link->last_stats.name = spec.text;
  return link;
}

Result<LinkChanges> AdaptiveSender::setLinks(const std::vector<LinkSpec>& specs) {
  std::lock_guard one_at_a_time(set_links_mu_);
  auto prepared =
      prepareLinks(links_, mu_, specs, [this](const LinkSpec& spec) { return makeLink(spec); });
  if (!prepared) {
    return prepared.error();
  }
  auto& [plan, changes, added] = *prepared;
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  // Ids: new ones while the scheduler has fewer than kMaxLinks, then those of links closed
  // so long ago that every copy they carried is past its deadline.
  std::vector<sched::LinkId> reusable;
  for (const auto& l : links_) {
    if (l->closed && now - l->closed_at >= config_.srt.latency * 2 + kIdReuseDelay) {
      reusable.push_back(l->id);
    }
  }
  const std::size_t fresh = sched::kMaxLinks - scheduler_->linkCount();
  if (added.size() > fresh + reusable.size()) {
    return Error{"adaptive mode carries at most " + std::to_string(sched::kMaxLinks) +
                 " links at a time, counting links still being removed and, for "
                 "twice the latency and a second, links just removed: " +
                 std::to_string(added.size()) + " more do not fit now; try again soon"};
  }
  for (const Link* link : markRemoved(links_, plan, now, changes)) {
    spdlog::info("link {}: removed; moving its traffic to the others before closing it",
                 link->spec.text);
  }
  for (auto& link : added) {
    const sched::LinkConfig config{link->spec.text, link->spec.cost};
    spdlog::info("link {}: added; connecting", link->spec.text);
    // Connected by the worker's next tick.
    if (scheduler_->linkCount() < sched::kMaxLinks) {
      link->id = scheduler_->addLink(config, now);
      links_.push_back(std::move(link));
    } else {
      link->id = reusable.back();
      reusable.pop_back();
      scheduler_->resetLink(link->id, config, now);
      links_[link->id] = std::move(link);
    }
  }
  return changes;
}

// ---- connections (worker thread, mu_ held) ----

void AdaptiveSender::startConnect(Link& link, sched::TimePoint now) {
  link.conn.attempt(now);
  link.sock.reset(srt_create_socket());
  const SRTSOCKET s = link.sock.get();
  auto fail = [&](const std::string& why) {
    link.conn.failed(why);
    link.sock.reset();
  };
  srt::CommonOptions o = srt::withUri(config_.srt, link.spec.srt);
  o.stream_id = wire::linkStreamId(config_.srt.stream_id, config_.session, link.id,
                                   static_cast<std::uint32_t>(config_.srt.latency.count()),
                                   /*receipts=*/true);
  if (auto st = srt::applyCommonOptions(
          s, o, fmt::format("link {} ({})", link.id, maskSecrets(link.spec.text)));
      !st) {
    return fail(st.error().message);
  }
  const bool no = false;
  if (auto st = srt::applyAdaptiveLinkSenderOptions(s); !st) {
    return fail(st.error().message);
  }
  const int payload_size = kMaxDatagram;
  if (auto st = srt::setOption(s, SRTO_PAYLOADSIZE, payload_size, "payload size"); !st) {
    return fail(st.error().message);
  }
  if (auto st = srt::setOption(s, SRTO_RCVSYN, no, "non-blocking connect"); !st) {
    return fail(st.error().message);
  }
  // A blocking send would hold the sending thread, and with it every link, on this one.
  if (auto st = srt::setOption(s, SRTO_SNDSYN, no, "non-blocking send"); !st) {
    return fail(st.error().message);
  }
  if (!link.spec.device.empty()) {
    if (auto st = srt::setOption(s, SRTO_BINDTODEVICE, link.spec.device, "dev"); !st) {
      return fail(st.error().message);
    }
  }
  if (link.bind && srt_bind(s, link.bind->get(), link.bind->len) == SRT_ERROR) {
    return fail(srt::lastError("binding to " + link.spec.bind_host));
  }
  if (srt_connect(s, link.peer.get(), link.peer.len) == SRT_ERROR) {
    return fail(srt::lastError("connecting"));
  }
}

void AdaptiveSender::linkFailed(Link& link, const std::string& why, sched::TimePoint now) {
  if (link.removed_at) {
    spdlog::info("link {}: {}", link.spec.text, why);
    return closeRemoved(link);
  }
  const LinkConnection::Failure failure = link.conn.failed(why);
  if (failure == LinkConnection::Failure::kLost && draining_) {
    // The stream has ended and everything was delivered: the receiver closing is no news.
    spdlog::info("link {}: {} at the end of the stream", link.spec.text, why);
    links_up_--;
  } else if (failure == LinkConnection::Failure::kLost) {
    spdlog::warn("link {}: {}; re-sending what it held on the others, reconnecting", link.spec.text,
                 why);
    links_up_--;
  } else if (failure == LinkConnection::Failure::kNew) {
    spdlog::warn("link {}: {}", link.spec.text, why);
  }
  link.sock.reset();
  scheduler_->setLinkState(link.id, LinkState::kDown, now);
}

void AdaptiveSender::pollRemoved(Link& link, sched::TimePoint now) {
  if (!link.conn.isUp()) {
    return closeRemoved(link);  // it carries nothing
  }
  if (!link.drain_from) {
    const bool other_up = std::any_of(links_.begin(), links_.end(), [&](const auto& l) {
      return !l->removed_at && l->conn.isUp();
    });
    if (!other_up && now - *link.removed_at < kRemovalBound) {
      return;  // it still carries the stream alone
    }
    // Down for the scheduler: what it holds unacknowledged is re-sent on the others.
    link.drain_from = now;
    scheduler_->setLinkState(link.id, LinkState::kDown, now);
    return;
  }
  std::size_t blocks = 0, bytes = 0;
  const bool empty = srt_getsndbuffer(link.sock.get(), &blocks, &bytes) != 0 || blocks == 0;
  // What it delivered, the receiver plays out within the latency (and its merge may wait
  // as long again for stragglers): closing before then could cut it off.
  const auto played = config_.srt.latency * 2 + milliseconds(500);
  const auto since = now - *link.drain_from;
  if ((empty && since >= played) || since >= played * 2 + milliseconds(2000)) {
    closeRemoved(link);
  }
}

void AdaptiveSender::closeRemoved(Link& link) {
  if (link.conn.isUp()) {
    links_up_--;
  }
  if (!link.drain_from) {
    scheduler_->setLinkState(link.id, LinkState::kDown, Clock::now());
  }
  link.conn.failed("removed");
  link.sock.reset();
  link.closed = true;
  link.closed_at = Clock::now();
  spdlog::info("link {}: removed, closed", link.spec.text);
}

void AdaptiveSender::pollLink(Link& link, sched::TimePoint now) {
  if (link.closed) {
    return;
  }
  if (link.removed_at) {
    pollRemoved(link, now);
    if (link.closed || link.drain_from) {
      return;  // a draining link's stats must not bring it back up in the scheduler
    }
  }
  if (link.conn.phase() == LinkConnection::Phase::kIdle) {
    if (link.conn.isDue(now) && !draining_) {
      startConnect(link, now);
    }
    return;
  }
  const SRT_SOCKSTATUS st = srt_getsockstate(link.sock.get());
  if (link.conn.phase() == LinkConnection::Phase::kConnecting) {
    if (st == SRTS_CONNECTED) {
      reconnects_ += link.conn.everConnected() ? 1 : 0;
      link.conn.connected();
      link.connected_srt_us = srt_time_now();
      links_up_++;
      spdlog::info("link {}: connected", link.spec.text);
      scheduler_->setLinkState(link.id, LinkState::kUp, now);
    } else if (st != SRTS_CONNECTING && st != SRTS_OPENED && st != SRTS_INIT) {
      const int why = srt_getrejectreason(link.sock.get());
      std::string reason = why == SRT_REJ_TIMEOUT   ? kNoAnswer
                           : why == SRT_REJ_UNKNOWN ? "connection failed"
                                                    : srt::rejectionText(why);
      linkFailed(link, reason, now);
    }
    return;
  }
  if (st != SRTS_CONNECTED) {
    linkFailed(link, "connection broken", now);
    return;
  }
  SRT_TRACEBSTATS bs{};
  if (srt_bistats(link.sock.get(), &bs, 0, 1) == SRT_ERROR) {
    return;
  }
  const bool was_up = scheduler_->link(link.id).state() == LinkState::kUp;
  scheduler_->onLinkStats(link.id, feedbackFrom(bs), now);
  readReceipts(link, now);
  const sched::LinkModel& model = scheduler_->link(link.id);
  const bool up = model.state() == LinkState::kUp;
  if (was_up && !up) {
    spdlog::info(
        "link {}: stalled (nothing heard for {} ms, RTT {} ms); re-sending its overdue "
        "copies on the others",
        link.spec.text, model.unheardFor(now).count() / 1000, model.srtt().count() / 1000);
  } else if (!was_up && up) {
    spdlog::info("link {}: acknowledging again", link.spec.text);
  }
}

// ---- data path (send()'s caller or the worker, mu_ held) ----

const AdaptiveSender::Stored* AdaptiveSender::stored(std::uint64_t seq) const {
  if (stored_.empty() || seq < stored_.front().seq || seq > stored_.back().seq) {
    return nullptr;
  }
  return &stored_[seq - stored_.front().seq];
}

// Packets are kept until their deadline has passed: after that neither the scheduler
// nor libsrt sends them any more.
void AdaptiveSender::prune(sched::TimePoint now) {
  while (!stored_.empty() && stored_.front().deadline < now) {
    stored_.pop_front();
  }
}

void AdaptiveSender::transmit(const Stored& p, sched::LinkId id, std::uint8_t flags,
                              sched::TimePoint now) {
  Link& link = *links_[id];
  if (!link.conn.isUp()) {
    return;
  }
  std::uint8_t buf[kMaxDatagram];
  wire::Header h;
  h.flags = static_cast<std::uint8_t>(flags | wireFlags(p.importance));
  h.session = config_.session;
  h.seq = p.seq;
  h.source_time_us = static_cast<std::uint64_t>(micros(p.source_time));
  wire::encode(h, std::span<std::uint8_t, wire::kHeaderBytes>(buf, wire::kHeaderBytes));
  std::copy(p.payload.begin(), p.payload.end(), buf + wire::kHeaderBytes);
  const int size = static_cast<int>(wire::kHeaderBytes + p.payload.size());

  // The same source time on every copy, in libsrt's clock; never before this
  // connection started (libsrt's timestamps count from there) nor in the future.
  const std::int64_t srt_now = srt_time_now();
  const std::int64_t srctime = std::clamp<std::int64_t>(
      srt_now - (micros(now) - micros(p.source_time)), link.connected_srt_us + 1, srt_now);
  // The copy is useful while it can still arrive by the deadline over this link; libsrt
  // counts the TTL from srctime (which is the source time, unless clamped).
  const std::int64_t srctime_steady_us = micros(now) - (srt_now - srctime);
  const std::int64_t leave_by_us =
      micros(p.deadline) - scheduler_->link(id).oneWayDelay().count() - srctime_steady_us;
  SRT_MSGCTRL mc = srt::adaptiveMessageControl(milliseconds(leave_by_us / 1000));
  mc.srctime = srctime;
  if (srt_sendmsg2(link.sock.get(), reinterpret_cast<const char*>(buf), size, &mc) == SRT_ERROR) {
    ++link.refused;
    ++copies_refused_;
    scheduler_->onSendFailed(id, p.packet(), now);
    return;
  }
  ++link.copies;
  ++copies_sent_;
}

// The scheduler's decision for one new payload: one copy per chosen link, the first
// is the primary, the others are flagged duplicates.
void AdaptiveSender::schedule(const OutPacket& packet, sched::TimePoint now) {
  Stored s;
  s.seq = next_seq_++;
  s.source_time = packet.source_time;
  s.deadline = deadlines_.deadline(packet.source_time);
  s.importance = packet.importance;
  s.payload.assign(packet.payload.begin(), packet.payload.end());
  const sched::Packet p = s.packet();
  payload_bytes_ += s.payload.size();
  stored_.push_back(std::move(s));
  ++payloads_;
  const sched::LinkSet links = scheduler_->pick(p, now);
  if (links.empty()) {
    return;  // no link now (counted by the scheduler); takeResends() may send it later
  }
  for (std::size_t i = 0; i < links.size(); ++i) {
    transmit(stored_.back(), links[i], i == 0 ? 0 : wire::kFlagDuplicate, now);
  }
}

void AdaptiveSender::sendResends(sched::TimePoint now) {
  for (const sched::Resend& r : scheduler_->takeResends(now)) {
    const Stored* s = stored(r.packet.seq);
    if (!s) {
      continue;
    }
    for (sched::LinkId link : r.links) {
      transmit(*s, link, wire::kFlagResent, now);
      ++resent_;
    }
  }
}

// The receiver's receipts (common/wire.h) that came on this link since the last tick. The
// receiver sends them on its fastest link and now and then on every link; each says
// everything its merge holds, so any one will do and their order does not matter.
void AdaptiveSender::readReceipts(Link& link, sched::TimePoint now) {
  std::array<std::uint8_t, 1500> buf;
  for (;;) {
    SRT_MSGCTRL mc = srt_msgctrl_default;
    const int n = srt_recvmsg2(link.sock.get(), reinterpret_cast<char*>(buf.data()),
                               static_cast<int>(buf.size()), &mc);
    if (n <= 0) {
      return;  // nothing more (a broken connection shows in the next poll)
    }
    const wire::ReceiptResult r = wire::parseReceipt({buf.data(), static_cast<std::size_t>(n)});
    if (!r.receipt || r.receipt->session != config_.session) {
      if (link.bad_receipts++ == 0) {
        spdlog::warn("link {}: dropped a message from the receiver: {}", link.spec.text,
                     r.receipt ? "another session's receipt" : wire::toString(r.error));
      }
      continue;
    }
    ++link.receipts;
    scheduler_->onReceipt(r.receipt->below, r.receipt->received, now);
  }
}

void AdaptiveSender::tick(sched::TimePoint now) {
  for (auto& link : links_) {
    pollLink(*link, now);
  }
  deadlines_.update(*scheduler_, now);
  sendResends(now);
  prune(now);
  updateRecommendation(now);
}

void AdaptiveSender::updateRecommendation(sched::TimePoint now) {
  double capacity = 0;
  for (const auto& link : links_) {
    const sched::LinkModel& m = scheduler_->link(link->id);
    if (m.isUp() && m.isMeasured()) {
      capacity += m.bandwidthBps();
    }
  }
  double rec = capacity * kRecommendHeadroom / (1.0 + config_.redundancy_budget);
  // Overloaded: packets were dropped as too late within the last second. What got through
  // is what the links deliver now, whatever their estimates say: recommend below that at
  // once, so that an encoder that follows gets back under capacity within a second.
  const std::uint64_t dropped = droppedPayloads();
  recent_.push_back({now, payload_bytes_, payloads_, dropped});
  while (recent_.size() > 2 && now - recent_[1].at >= kOverloadWindow) {
    recent_.pop_front();
  }
  const Sample& first = recent_.front();
  const double span_s = std::chrono::duration<double>(now - first.at).count();
  overloaded_ = dropped > first.dropped && span_s > 0;
  if (overloaded_) {
    const double in_bps = static_cast<double>(payload_bytes_ - first.payload_bytes) * 8 / span_s;
    const double through =
        1.0 - static_cast<double>(dropped - first.dropped) /
                  static_cast<double>(std::max<std::uint64_t>(1, payloads_ - first.payloads));
    rec = std::min(rec, in_bps * through * kRecommendHeadroom);
  }
  recommended_bps_ = static_cast<std::uint64_t>(std::max(0.0, rec));
}

std::uint64_t AdaptiveSender::droppedPayloads() const {
  const sched::SchedulerStats& st = scheduler_->stats();
  return st.dropped_late + st.unsendable;
}

void AdaptiveSender::workerLoop() {
  auto next_tick = Clock::now();
  while (stop_.waitUntil(next_tick)) {
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    tick(now);
    next_tick = now + config_.feedback_interval;
    ++feedback_rounds_;
    feedback_time_ += Clock::now() - now;
  }
}

// ---- Transport ----

Status AdaptiveSender::connect(milliseconds timeout, const std::atomic<bool>* cancel) {
  spdlog::info("adaptive session {:08x}, policy {}, redundancy budget {:.0f}%", config_.session,
               config_.policy, config_.redundancy_budget * 100);
  if (!worker_.joinable()) {
    worker_ = std::thread([this] { workerLoop(); });
  }
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cancel && *cancel) {
      return Error{"stopped before any link connected"};
    }
    if (links_up_ > 0) {
      return okStatus();
    }
    {
      std::lock_guard lock(mu_);
      const bool all_failed = std::all_of(links_.begin(), links_.end(), [](const auto& l) {
        const std::string& error = l->conn.lastError();
        return l->conn.phase() == LinkConnection::Phase::kIdle && !error.empty() &&
               error != kNoAnswer;
      });
      if (all_failed) {
        break;
      }
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> errors;
  for (const auto& link : links_) {
    errors.emplace_back(link->spec.text, link->conn.lastError());
  }
  return noLinkConnected(errors);
}

// On the caller's thread: handing each payload to a worker cost two thread switches per
// payload (eval S5's CPU profile, eval/RESULTS.md), and every link is non-blocking.
void AdaptiveSender::send(const OutPacket& packet) {
  std::lock_guard lock(mu_);
  schedule(packet, Clock::now());
}

nlohmann::json AdaptiveSender::statsJson(bool clear_interval) {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  const int latency_ms = static_cast<int>(config_.srt.latency.count());
  nlohmann::json links = nlohmann::json::array();
  for (auto& link : links_) {
    if (link->closed) {
      continue;  // removed
    }
    srt::LinkStats& ls = link->last_stats;
    const sched::LinkModel& m = scheduler_->link(link->id);
    if (link->conn.isUp()) {
      srt::readLinkStats(link->sock.get(), ls, clear_interval);
      ls.state = m.state() == LinkState::kStalled ? LinkState::kStalled
                                                  : srt::withStall(LinkState::kUp, ls, latency_ms);
    } else {
      ls.state = link->conn.phase() == LinkConnection::Phase::kConnecting ? LinkState::kConnecting
                                                                          : LinkState::kDown;
      ls.send_rate_mbps = ls.recv_rate_mbps = 0;
    }
    nlohmann::json j = srt::toJson(ls);
    j["copies"] = link->copies;
    j["copies_refused"] = link->refused;
    j["receipts"] = link->receipts;
    j["bad_receipts"] = link->bad_receipts;
    j["cost"] = link->spec.cost;
    j["model"] = {{"state", std::string(toString(m.state()))},
                  {"min_rtt_ms", m.minRtt().count() / 1000.0},
                  {"queue_ms", m.queueDelay(now).count() / 1000.0},
                  {"capacity_mbps", m.bandwidthBps() / 1e6},
                  {"delivery_mbps", m.deliveryRateBps() / 1e6},
                  {"loss", m.lossRate()}};
    if (!link->conn.lastError().empty() && !link->conn.isUp()) {
      j["error"] = link->conn.lastError();
    }
    if (link->removed_at) {
      j["removing"] = true;
    }
    links.push_back(std::move(j));
  }
  char session[16];
  std::snprintf(session, sizeof session, "%08x", config_.session);
  return {{"session", session},
          {"policy", config_.policy},
          {"payloads_sent", payloads_ - droppedPayloads()},
          {"payloads_dropped", droppedPayloads()},
          {"overloaded", overloaded_},
          {"copies_sent", copies_sent_},
          {"copies_refused", copies_refused_},
          {"resent", resent_},
          {"reconnects", reconnects_},
          // The cost of feeding the scheduler: link polls (srt_bistats), re-sends, pruning.
          {"feedback_rounds", feedback_rounds_},
          {"feedback_us", duration_cast<microseconds>(feedback_time_).count()},
          {"links_up", links_up_.load()},
          {"recommended_bitrate_bps", recommended_bps_.load()},
          {"scheduler", sched::toJson(scheduler_->stats())},
          {"links", links}};
}

void AdaptiveSender::drain(milliseconds timeout) {
  // What the receiver has acknowledged it plays out after its latency, then its merge
  // may still wait for stragglers.
  Drain drain(Clock::now(), timeout, config_.srt.latency * 2 + milliseconds(100));
  // What the links hold unacknowledged.
  const auto holding = [&] {
    std::lock_guard lock(mu_);
    return std::any_of(links_.begin(), links_.end(), [](const auto& l) {
      std::size_t blocks = 0, bytes = 0;
      return l->conn.isUp() && srt_getsndbuffer(l->sock.get(), &blocks, &bytes) == 0 && blocks > 0;
    });
  };
  while (drain.step(Clock::now(), holding()) == Drain::Step::kHolding) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  draining_ = true;  // no new connections from here on
  std::this_thread::sleep_until(drain.playoutEnds());
}

}  // namespace bondcast::sender
