// SPDX-License-Identifier: MPL-2.0
// Where the sender's MPEG-TS comes from.
//
// An Input is read by one thread (the sender's input thread). read() blocks until
// some bytes are ready, the input ends, or stop() is called from another thread.
// Bytes are MPEG-TS; inputs that know packet boundaries (UDP datagrams, files)
// return whole 188-byte TS packets; the sender's packetizer cuts payloads of
// 7 TS packets (1316 bytes) from whatever it is given and resynchronises on 0x47.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace bondcast::sender {

inline constexpr std::size_t kTsPacketBytes = 188;
inline constexpr std::size_t kPayloadBytes = 7 * kTsPacketBytes;  // 1316

struct InputChunk {
  std::vector<std::uint8_t> bytes;  // empty together with end == true at the end of input
  bool end = false;
};

class Input {
 public:
  virtual ~Input() = default;
  // Blocks until data, end of input or stop(). Called from one thread only.
  virtual Result<InputChunk> read() = 0;
  // Thread-safe; makes a blocked or later read() return end of input promptly.
  virtual void stop() = 0;
  // What the input is, for logs ("udp://@:5000", "file 'a.ts'", "testsrc 4 Mbit/s").
  virtual std::string describe() const = 0;
};

struct InputOptions {
  std::string source;                      // as given with --input
  bool loop = false;                       // --loop: restart a file input at its end
  std::uint64_t bitrate_bps = 4'000'000;   // --bitrate: testsrc's total bitrate
  std::chrono::milliseconds latency{200};  // for SRT listener inputs
  std::string passphrase;                  // for SRT listener inputs
};

// Chooses the input kind from the source: "udp://...", "srt://:PORT", "-" (stdin),
// "testsrc", otherwise a file or libavformat URL. A malformed source is an Error
// whose message names it.
Result<std::unique_ptr<Input>> openInput(const InputOptions& options);
// The checks of openInput that need no I/O: a udp:// or srt:// source's syntax and
// parameters (an SRT listener input takes latency, passphrase, pbkeylen and mode=listener;
// a UDP one none). For the command line, which reports them as usage errors.
Status checkInputSource(const std::string& source);

// FFmpeg-based inputs (sender/av_input.cpp, sender/testsrc.cpp).
// A file or libavformat URL, sent at its real-time rate (by PCR for MPEG-TS, by DTS
// for other containers, which are remuxed to MPEG-TS), restarted at its end if loop.
Result<std::unique_ptr<Input>> openAvInput(const std::string& url, bool loop);
// A live test pattern with a running clock and a 1 kHz tone, H.264 + AAC in MPEG-TS
// at bitrate_bps, produced in real time.
Result<std::unique_ptr<Input>> openTestSource(std::uint64_t bitrate_bps);

}  // namespace bondcast::sender
