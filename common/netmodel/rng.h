// SPDX-License-Identifier: MPL-2.0
// Seeded random numbers for the network models, the simulator's (scheduler/sim) and the
// emulator's (eval/emulator) alike: splitmix64, one independent stream per (seed, link,
// purpose) so that a decision never depends on how many numbers another link or another
// purpose has drawn, with our own conversion to doubles so that a seed gives the same run
// on every platform and standard library (std::uniform_real_distribution does not promise
// that).
#pragma once

#include <cstdint>

namespace bondcast::net {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) { next(); }
  // One stream per (seed, link, purpose).
  Rng(std::uint64_t seed, std::uint64_t link, std::uint64_t purpose)
      : Rng(seed ^ ((link + 1) * 0xd1b54a32d192ed03ULL) ^ ((purpose + 1) * 0x8cb92ba72f3d8dd7ULL)) {
  }
  // One stream per (seed, link, direction, purpose): the emulator's two directions.
  static Rng forStream(std::uint64_t seed, std::uint64_t link, std::uint64_t direction,
                       std::uint64_t purpose) {
    return Rng(seed ^ ((direction + 1) * 0xaef17502108ef2d9ULL), link, purpose);
  }

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), 53 bits.
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // True with probability p; draws nothing when p is 0.
  bool chance(double p) { return p > 0 && uniform01() < p; }

 private:
  std::uint64_t state_;
};

}  // namespace bondcast::net
