// SPDX-License-Identifier: MPL-2.0
// The receiver's per-packet path in adaptive mode: each datagram a link delivers goes
// through the wire header parse (common/wire.h) and, if it belongs to the session, into
// the merge (playout/merge.h), which releases packets at their playout times
// (playout/playout_clock.h). Any sequence numbers, source times, links and arrival times.
//
// Input: 3 bytes of settings (latency; limits on buffered packets and on the jump ahead,
// small ones to reach those paths), then records of 29 bytes:
//   op      bits 0-1: 0 push, 1 push then release, 2 release, 3 release at nextDeadline();
//           bit 7: the time step is in ms, else in us
//   link    the link the datagram came on
//   step    u16, how far the receiver's clock moves before the op
//   length  the payload's length (its bytes are made from the sequence number)
//   header  24 bytes, as on the wire
// At the end, the stream ends: flush().
//
// Checks, from merge.h's contract: packets leave in sequence order, each once, and runs
// given up on lie between them (the output is contiguous and only goes forward); a packet
// leaves with the payload and source time of the copy that was accepted; it leaves at or
// after its playout time unless the buffer overflowed (counted forced); a packet is
// accepted only before its playout time; after release() nothing due is left waiting and
// at most max_buffered packets wait; the counters add up.
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <vector>

#include "common/wire.h"
#include "fuzz/fuzz_support.h"
#include "playout/merge.h"

namespace {

using namespace bondcast;
using namespace bondcast::playout;
namespace fz = bondcast::fuzz;

constexpr std::uint32_t kSession = 0x0B0DCA57;
constexpr std::size_t kRecordBytes = 29;
constexpr std::chrono::minutes kMaxWait{10};

std::vector<std::uint8_t> payloadFor(std::uint64_t seq, std::size_t length) {
  std::vector<std::uint8_t> p(length);
  for (std::size_t i = 0; i < length; ++i) {
    p[i] = static_cast<std::uint8_t>(seq + i);
  }
  return p;
}

class Harness {
 public:
  explicit Harness(Merger::Options options) : options_(options), merger_(options) {}

  void advance(std::chrono::microseconds step) { now_ += step; }

  // One datagram as the receiver's link loop handles it.
  void receive(int link, std::span<const std::uint8_t> datagram) {
    const wire::ParseResult r = wire::parse(datagram);
    if (!r.parsed || r.parsed->header.session != kSession) {
      return;
    }
    const wire::Header& h = r.parsed->header;
    const Merger::Verdict verdict =
        merger_.push(h.seq, h.source_time_us, link, r.parsed->payload, now_);
    ++pushes_;
    if (verdict == Merger::Verdict::kAccepted) {
      // Accepted only before its playout time (once there is a clock), and only once.
      FUZZ_CHECK(!merger_.clock().started() ||
                 merger_.clock().playoutTime(h.source_time_us) >= now_);
      FUZZ_CHECK(!accepted_.contains(h.seq));
      accepted_[h.seq] = {
          h.source_time_us, link,
          std::vector<std::uint8_t>(r.parsed->payload.begin(), r.parsed->payload.end())};
    }
    checkCounters();
  }

  void release() {
    const bool overfull = merger_.buffered() > options_.max_buffered;
    const std::optional<TimePoint> deadline = merger_.nextDeadline();
    const std::uint64_t delivered = merger_.stats().delivered;
    releasing_ = true;
    merger_.release(
        now_, [this](const Merger::Packet& p) { onDeliver(p); },
        [this](std::uint64_t first, std::uint64_t count) { onLost(first, count); });
    releasing_ = false;
    // Nothing leaves before nextDeadline() said, unless the buffer was too full.
    if (deadline && now_ < *deadline && !overfull) {
      FUZZ_CHECK(merger_.stats().delivered == delivered);
    }
    if (merger_.clock().started()) {
      FUZZ_CHECK(merger_.buffered() <= options_.max_buffered);
      const std::optional<TimePoint> next = merger_.nextDeadline();
      FUZZ_CHECK(next.has_value() == (merger_.buffered() > 0));
      FUZZ_CHECK(!next || *next > now_);  // nothing due left behind
    }
    checkCounters();
  }

  // As the receiver's playout thread: wake at the next deadline. A receiver's clock moves
  // as time does, so a deadline more than kMaxWait away is waited for kMaxWait at a time.
  void releaseAtDeadline() {
    if (const std::optional<TimePoint> next = merger_.nextDeadline(); next && *next > now_) {
      now_ = std::min(*next, now_ + kMaxWait);
    }
    release();
  }

  void finish() {
    releasing_ = true;
    flushing_ = true;
    merger_.flush([this](const Merger::Packet& p) { onDeliver(p); },
                  [this](std::uint64_t first, std::uint64_t count) { onLost(first, count); });
    FUZZ_CHECK(merger_.buffered() == 0);
    FUZZ_CHECK(!merger_.nextDeadline() || !merger_.clock().started());
    checkCounters();
    FUZZ_CHECK(merger_.stats().delivered == merger_.stats().accepted);
  }

 private:
  struct Copy {
    std::uint64_t source_time_us = 0;
    int link = 0;
    std::vector<std::uint8_t> payload;
  };

  void onDeliver(const Merger::Packet& p) {
    FUZZ_CHECK(releasing_);
    // In order, once: the output only goes forward and has no holes.
    FUZZ_CHECK(!last_out_ || p.seq > *last_out_);
    FUZZ_CHECK(!expect_ || p.seq == *expect_);
    last_out_ = p.seq;
    expect_ = p.seq + 1;
    ++delivered_;
    // What was accepted for that sequence number.
    const auto it = accepted_.find(p.seq);
    FUZZ_CHECK(it != accepted_.end());
    FUZZ_CHECK(p.source_time_us == it->second.source_time_us);
    FUZZ_CHECK(p.link == it->second.link);
    FUZZ_CHECK(p.payload == it->second.payload);
    accepted_.erase(it);
    // At its playout time or after, unless forced out by a full buffer.
    FUZZ_CHECK(p.playout == merger_.clock().playoutTime(p.source_time_us));
    if (!flushing_ && p.playout > now_) {
      FUZZ_CHECK(merger_.stats().forced > forced_seen_);
    }
    forced_seen_ = merger_.stats().forced;
  }

  void onLost(std::uint64_t first, std::uint64_t count) {
    FUZZ_CHECK(releasing_);
    FUZZ_CHECK(count > 0);
    FUZZ_CHECK(!last_out_ || first > *last_out_);
    FUZZ_CHECK(!expect_ || first == *expect_);
    FUZZ_CHECK(first + count > first);  // the run does not wrap around
    last_out_ = first + count - 1;
    expect_ = first + count;
    lost_ += count;
  }

  void checkCounters() const {
    const Merger::Stats& s = merger_.stats();
    FUZZ_CHECK(s.accepted + s.duplicates + s.late + s.clock_skewed == pushes_);
    FUZZ_CHECK(s.accepted == s.delivered + merger_.buffered());
    FUZZ_CHECK(s.delivered == delivered_);
    FUZZ_CHECK(s.lost == lost_);
    FUZZ_CHECK(s.forced <= s.delivered);
  }

  Merger::Options options_;
  Merger merger_;
  TimePoint now_{std::chrono::hours(24)};   // a receiver up for a day
  std::map<std::uint64_t, Copy> accepted_;  // accepted and not yet delivered
  std::optional<std::uint64_t> last_out_;   // last sequence number delivered or given up
  std::optional<std::uint64_t> expect_;     // the one that must come out next
  std::uint64_t pushes_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t forced_seen_ = 0;
  bool releasing_ = false;
  bool flushing_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::Reader in(data, size);
  Merger::Options options = sessionOptions(std::chrono::milliseconds(20 + 10 * (in.u8() % 100)));
  if (const std::uint8_t b = in.u8(); b != 0) {
    options.max_buffered = b % 64;
  }
  if (const std::uint8_t b = in.u8(); b != 0) {
    options.max_ahead = b;
  }
  Harness h(options);
  std::vector<std::uint8_t> datagram;
  while (in.remaining() >= kRecordBytes) {
    const std::uint8_t op = in.u8();
    const int link = in.u8();
    const std::uint16_t step = in.u16();
    const std::size_t length = in.u8();
    const auto header = in.bytes(wire::kHeaderBytes);
    h.advance(op & 0x80 ? std::chrono::milliseconds(step) : std::chrono::microseconds(step));
    const int action = op & 0x03;
    if (action == 0 || action == 1) {
      datagram.assign(header.begin(), header.end());
      const auto seq = wire::parse(header);
      const auto payload = payloadFor(seq.parsed ? seq.parsed->header.seq : 0, length);
      datagram.insert(datagram.end(), payload.begin(), payload.end());
      h.receive(link, datagram);
    }
    if (action == 1 || action == 2) {
      h.release();
    } else if (action == 3) {
      h.releaseAtDeadline();
    }
  }
  h.finish();
  return 0;
}
