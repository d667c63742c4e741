// SPDX-License-Identifier: MPL-2.0
#include "common/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bondcast {

int Histogram::bucketOf(std::uint64_t v) {
  if (v < kSub)
    return static_cast<int>(v);
  int e = std::bit_width(v) - 1;  // >= kSubBits
  int sub = static_cast<int>((v >> (e - kSubBits)) & (kSub - 1));
  return kSub + (e - kSubBits) * kSub + sub;
}

std::uint64_t Histogram::upperBoundOf(int bucket) {
  if (bucket < kSub)
    return static_cast<std::uint64_t>(bucket);
  int e = (bucket - kSub) / kSub + kSubBits;
  std::uint64_t sub = static_cast<std::uint64_t>((bucket - kSub) % kSub);
  std::uint64_t lower = (std::uint64_t{1} << e) | (sub << (e - kSubBits));
  return lower + ((std::uint64_t{1} << (e - kSubBits)) - 1);
}

void Histogram::add(std::uint64_t value) {
  ++buckets_[static_cast<std::size_t>(bucketOf(value))];
  ++count_;
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i)
    buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t Histogram::quantile(double q) const {
  if (count_ == 0)
    return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * count_));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[static_cast<std::size_t>(b)];
    if (seen >= rank)
      return std::min(upperBoundOf(b), max_);
  }
  return max_;
}

}  // namespace bondcast
