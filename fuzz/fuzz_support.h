// SPDX-License-Identifier: MPL-2.0
// What every fuzz target shares: a check that aborts with the failed condition (libFuzzer
// and the corpus driver both report an abort as a failure with the input that caused
// it), and a reader that takes typed values off the front of the fuzz input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

// Aborts, naming the condition and where it is, when `cond` is false. Unlike assert(),
// it is never compiled out.
#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)

namespace bondcast::fuzz {

// Takes values from the front of the input; past its end every value is 0 and every
// span empty, so a target never reads beyond what it was given.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : bytes_(data, size) {}

  std::size_t remaining() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  std::uint8_t u8() {
    if (bytes_.empty()) {
      return 0;
    }
    const std::uint8_t v = bytes_.front();
    bytes_ = bytes_.subspan(1);
    return v;
  }
  // Big-endian, like the wire format, so that seeds read naturally in a hex dump.
  std::uint16_t u16() { return static_cast<std::uint16_t>(big(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(big(4)); }
  std::uint64_t u64() { return big(8); }

  // Up to n bytes (fewer at the end of the input).
  std::span<const std::uint8_t> bytes(std::size_t n) {
    const std::span<const std::uint8_t> out = bytes_.first(n < bytes_.size() ? n : bytes_.size());
    bytes_ = bytes_.subspan(out.size());
    return out;
  }
  std::span<const std::uint8_t> rest() { return bytes(bytes_.size()); }

 private:
  std::uint64_t big(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) {
      v = (v << 8) | u8();  // one byte per statement: the order is the input's
    }
    return v;
  }

  std::span<const std::uint8_t> bytes_;
};

inline std::string_view asText(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace bondcast::fuzz
