// SPDX-License-Identifier: MPL-2.0
// Link capacity traces, replayed in a loop by the link emulator and the simulator.
//
// One representation for every source format: the mahimahi one (see
// ../shared/traces/README.md). A trace is a sorted list of delivery opportunities,
// each a time in milliseconds from the start of the loop at which the link can
// deliver one packet of up to kOpportunityBytes. Several equal times are several
// packets in that millisecond. The trace loops with period_ms; an opportunity that
// finds the queue empty is lost (capacity does not accumulate).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace bondcast {

class CapacityTrace {
 public:
  static constexpr std::uint32_t kOpportunityBytes = 1500;

  // Mahimahi format: one non-decreasing integer millisecond per line.
  static Result<CapacityTrace> loadMahimahi(const std::string& path);
  // Rate series: "<time_s> <Mbit/s>" per line (norway-3g), or "<value>,<unit>" per
  // line at one line a second with unit bits/sec, Kbits/sec or Mbits/sec (nyu-mets).
  // Converted as ../shared/traces/README.md says: hold each rate until the next
  // sample, accumulate rate/12 packets per millisecond.
  static Result<CapacityTrace> loadRateSeries(const std::string& path);
  // From already-parsed samples: rate (bits/s) held from time_ms until the next
  // sample's time; the loop ends at end_ms.
  struct RateSample {
    std::uint64_t time_ms;
    double rate_bps;
  };
  static Result<CapacityTrace> fromRateSamples(const std::vector<RateSample>& samples,
                                               std::uint64_t end_ms);

  std::uint64_t periodMs() const { return period_ms_; }
  // Sorted opportunity times in [1, period_ms] (mahimahi convention).
  const std::vector<std::uint32_t>& opportunitiesMs() const { return opportunities_ms_; }
  // Mean capacity over the loop, bits/s.
  double meanBps() const;
  // Bytes the trace can deliver in [from_ms, to_ms) of trace time (looping).
  std::uint64_t bytesBetween(std::uint64_t from_ms, std::uint64_t to_ms) const;
  // Opportunities at or after time t_ms (looping): returns the time of the next one.
  std::uint64_t nextOpportunityAtOrAfter(std::uint64_t t_ms) const;
  // Opportunities are numbered 0, 1, 2... across loops in time order. The index of the
  // first one at or after t_ms (= how many come before t_ms), and the time of index i.
  std::uint64_t countBefore(std::uint64_t t_ms) const;
  std::uint64_t timeOfOpportunity(std::uint64_t index) const;

 private:
  CapacityTrace(std::vector<std::uint32_t> opportunities_ms, std::uint64_t period_ms);
  struct LoopPosition {
    std::uint64_t loop;           // t is in (loop * period, (loop + 1) * period], or 0
    std::uint64_t index_in_loop;  // first opportunity of that loop at or after t
  };
  LoopPosition locate(std::uint64_t t_ms) const;

  std::vector<std::uint32_t> opportunities_ms_;
  std::uint64_t period_ms_ = 0;
};

}  // namespace bondcast
