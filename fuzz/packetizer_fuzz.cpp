// SPDX-License-Identifier: MPL-2.0
// The sender's packetizer (sender/packetizer.h): cuts 1316-byte SRT payloads out of any
// byte stream, in chunks of any size, resynchronising on the sync byte after garbage.
//
// Input: a mode byte, 4 bytes that give the chunk sizes the stream arrives in (cycled),
// then the stream:
//   mode 0  the stream as it is;
//   mode 1  a clean TS stream: the bytes cut into 188-byte packets, each starting 0x47;
//   mode 2  garbage (the next byte says how long, without any 0x47), then a clean stream.
// Checks, always: every payload is 7 whole packets (the last, flushed, fewer), each packet
// starts with 0x47; the bytes out are the bytes in, in order, less those counted as
// discarded. Mode 1: nothing is discarded. Mode 2: exactly the garbage is.
#include <algorithm>
#include <array>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "sender/packetizer.h"

namespace {

using namespace bondcast::sender;
namespace fz = bondcast::fuzz;

constexpr std::uint8_t kSync = 0x47;

void checkPackets(const std::vector<std::uint8_t>& payload) {
  FUZZ_CHECK(payload.size() % kTsPacketBytes == 0);
  for (std::size_t at = 0; at < payload.size(); at += kTsPacketBytes) {
    FUZZ_CHECK(payload[at] == kSync);
  }
}

// Whether `part` is `whole` with some bytes left out (order kept).
bool isSubsequence(const std::vector<std::uint8_t>& part, const std::vector<std::uint8_t>& whole) {
  std::size_t i = 0;
  for (std::uint8_t b : whole) {
    if (i < part.size() && part[i] == b) {
      ++i;
    }
  }
  return i == part.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fz::Reader in(data, size);
  const std::uint8_t mode = in.u8() % 3;
  std::array<std::size_t, 4> chunks{};
  for (auto& c : chunks) {
    c = 1 + std::size_t{in.u8()} * 8;  // 1 to 2041 bytes
  }
  std::vector<std::uint8_t> stream;
  std::size_t garbage = 0;
  if (mode == 2) {
    garbage = in.u8();
    for (std::uint8_t b : in.bytes(garbage)) {
      stream.push_back(b == kSync ? 0 : b);
    }
    garbage = stream.size();
  }
  const auto rest = in.rest();
  if (mode == 0) {
    stream.assign(rest.begin(), rest.end());
  } else {
    const std::size_t whole = rest.size() - rest.size() % kTsPacketBytes;
    for (std::size_t at = 0; at < whole; ++at) {
      stream.push_back(at % kTsPacketBytes == 0 ? kSync : rest[at]);
    }
  }

  Packetizer packetizer;
  std::vector<std::uint8_t> out;
  std::size_t chunk = 0;
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t n = std::min(chunks[chunk++ % chunks.size()], stream.size() - at);
    for (const auto& payload : packetizer.push(std::span(stream).subspan(at, n))) {
      FUZZ_CHECK(payload.size() == kPayloadBytes);
      checkPackets(payload);
      out.insert(out.end(), payload.begin(), payload.end());
    }
    at += n;
  }
  const std::vector<std::uint8_t> last = packetizer.flush();
  FUZZ_CHECK(last.size() < kPayloadBytes);
  checkPackets(last);
  out.insert(out.end(), last.begin(), last.end());

  FUZZ_CHECK(out.size() + packetizer.discardedBytes() == stream.size());
  FUZZ_CHECK(isSubsequence(out, stream));
  if (mode == 1) {
    FUZZ_CHECK(packetizer.discardedBytes() == 0);
    FUZZ_CHECK(out == stream);
  } else if (mode == 2) {
    FUZZ_CHECK(packetizer.discardedBytes() == garbage);
    FUZZ_CHECK(std::equal(out.begin(), out.end(), stream.begin() + garbage, stream.end()));
  }
  return 0;
}
