// SPDX-License-Identifier: MPL-2.0
// A fake-clock driver for the Merger: arrivals are pushed in time order, and release()
// runs at every arrival and at every nextDeadline() in between, as the receiver's event
// loop does. What came out is recorded with the (fake) time it came out.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "playout/merge.h"

namespace bondcast::playout::testing {

struct Arrival {
  std::int64_t at_us;  // receiver clock
  std::uint64_t seq;
  std::uint64_t source_us;  // sender clock
  int link = 0;
};

struct Output {
  std::uint64_t seq;
  std::uint64_t source_us;
  std::int64_t out_us;      // when release() handed it over
  std::int64_t playout_us;  // the playout time it was given
};

inline TimePoint at(std::int64_t us) {
  return TimePoint(Micros(us));
}
inline std::int64_t us(TimePoint t) {
  return std::chrono::duration_cast<Micros>(t.time_since_epoch()).count();
}

struct Run {
  std::vector<Output> out;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> lost;  // (first, count)
  std::map<std::uint64_t, Merger::Verdict> first_verdict;     // per seq, its first copy's
  Merger::Stats stats;
  std::vector<std::int64_t> offsets_us;  // the clock's offset after each arrival
};

// Feeds `arrivals` (any order; sorted here by time) through a Merger with `options`.
inline Run drive(std::vector<Arrival> arrivals, const Merger::Options& options,
                 bool flush_at_end = true) {
  std::stable_sort(arrivals.begin(), arrivals.end(),
                   [](const Arrival& a, const Arrival& b) { return a.at_us < b.at_us; });
  Merger m(options);
  Run r;
  std::int64_t now_us = 0;
  auto deliver = [&](const Merger::Packet& p) {
    r.out.push_back({p.seq, p.source_time_us, now_us, us(p.playout)});
  };
  auto lost = [&](std::uint64_t first, std::uint64_t count) { r.lost.emplace_back(first, count); };
  auto releaseUntil = [&](std::optional<std::int64_t> limit_us) {
    while (const auto next = m.nextDeadline()) {
      if (limit_us && us(*next) >= *limit_us) {
        break;
      }
      now_us = std::max(now_us, us(*next));
      m.release(at(now_us), deliver, lost);
    }
  };
  for (const Arrival& a : arrivals) {
    releaseUntil(a.at_us);
    now_us = std::max(now_us, a.at_us);
    const auto verdict =
        m.push(a.seq, a.source_us, a.link, std::vector<std::uint8_t>(4, 7), at(now_us));
    r.first_verdict.try_emplace(a.seq, verdict);
    m.release(at(now_us), deliver, lost);
    r.offsets_us.push_back(m.clock().offsetUs());
  }
  releaseUntil(std::nullopt);
  if (flush_at_end) {
    m.flush(deliver, lost);
  }
  r.stats = m.stats();
  return r;
}

}  // namespace bondcast::playout::testing
