// SPDX-License-Identifier: MPL-2.0
// Seeded random numbers for the simulator: splitmix64, one independent stream per
// (seed, link, purpose), with our own conversion to doubles so a seed gives the same run
// on every platform and standard library.
#pragma once

#include <cstdint>

namespace bondcast::sim {

class Rng {
 public:
  Rng(std::uint64_t seed, std::uint64_t link, std::uint64_t purpose)
      : state_(seed ^ ((link + 1) * 0xd1b54a32d192ed03ULL) ^
               ((purpose + 1) * 0x8cb92ba72f3d8dd7ULL)) {
    next();
  }
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return p > 0 && uniform01() < p; }

 private:
  std::uint64_t state_;
};

}  // namespace bondcast::sim
