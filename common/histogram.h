// SPDX-License-Identifier: MPL-2.0
// A fixed-size log-linear histogram of non-negative integer samples (microseconds
// here): exact below 32, then 32 buckets per power of two (relative error <= 3%).
// No allocation after construction; add() is a few instructions.
#pragma once

#include <array>
#include <cstdint>

namespace bondcast {

class Histogram {
 public:
  void add(std::uint64_t value);
  void merge(const Histogram& other);
  void clear() { *this = Histogram{}; }
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  // Value at quantile q in [0, 1] (an upper estimate within one bucket); 0 if empty.
  std::uint64_t quantile(double q) const;

 private:
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = kSub + (64 - kSubBits) * kSub;
  static int bucketOf(std::uint64_t v);
  static std::uint64_t upperBoundOf(int bucket);

  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace bondcast
