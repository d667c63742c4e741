// SPDX-License-Identifier: MPL-2.0
// The emulator's random numbers: xoshiro256** seeded through splitmix64, with our own
// conversion to doubles, so the same seed gives the same numbers on every platform
// and standard library (std::uniform_real_distribution does not promise that).
#pragma once

#include <cstdint>

namespace bondcast::emu {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& w : s_)
      w = splitmix64(sm);
  }
  // One independent stream per (seed, link, direction, purpose), so a decision never
  // depends on how many numbers another link or another purpose has drawn.
  static Rng forStream(std::uint64_t seed, std::uint64_t link, std::uint64_t direction,
                       std::uint64_t purpose) {
    std::uint64_t sm = seed;
    std::uint64_t mixed = splitmix64(sm);
    mixed ^= (link + 1) * 0xd1b54a32d192ed03ULL;
    mixed ^= (direction + 1) * 0x8cb92ba72f3d8dd7ULL;
    mixed ^= (purpose + 1) * 0xaef17502108ef2d9ULL;
    return Rng(mixed);
  }

  std::uint64_t next() {
    std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1), 53 bits.
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // True with probability p.
  bool chance(double p) { return uniform01() < p; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace bondcast::emu
