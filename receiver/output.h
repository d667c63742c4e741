// SPDX-License-Identifier: MPL-2.0
// Where the receiver writes each stream it rebuilds.
//
// --output forms:
//   FILE            a file (created or truncated when the stream first arrives)
//   -               standard output
//   udp://HOST:PORT UDP datagrams of 1316 bytes (e.g. to ffplay, VLC, a decoder)
//   srt://:PORT     an SRT listener that players pull from (ffplay, OBS media source)
//   srt://HOST:PORT an SRT caller that pushes to a media server
//
// Several senders: each stream id gets its own output. In a file name, "{id}" is
// replaced by the stream id; without "{id}", a stream with a non-empty id S writes to
// "<stem>-S<ext>" (out.ts -> out-cam1.ts) and a stream without an id to FILE itself.
// stdout, UDP and SRT outputs carry one stream at a time: while one stream is being
// received, a sender with another stream id is refused at its handshake.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/result.h"

namespace bondcast::receiver {

class Output {
 public:
  virtual ~Output() = default;
  // Writes one payload; may block (the receiver calls it from a QueuedOutput's thread).
  // An error ends this output (the stream goes on being received and counted).
  virtual Status write(std::span<const std::uint8_t> payload) = 0;
  virtual std::string describe() const = 0;
  // Called from another thread: a write() blocked in this output returns soon with an
  // error, and so does every later one (QueuedOutput uses it to close an output that
  // takes no more data). Outputs that never block need not override it.
  virtual void interrupt() {}
  // False for outputs whose write() never waits for a reader: a regular file, UDP, an SRT
  // output (non-blocking sends). QueuedOutput writes those on the caller's thread.
  virtual bool mayBlock() const { return true; }
};

enum class OutputKind { kFile, kStdout, kUdp, kSrtListener, kSrtCaller };

struct OutputSpec {
  OutputKind kind = OutputKind::kFile;
  std::string text;         // as given
  bool per_stream = false;  // files: every stream id gets its own file
};

// Checks the --output text without opening anything; errors name it.
Result<OutputSpec> parseOutputSpec(const std::string& text);

// The file name a stream id writes to (see the rules above).
std::string fileNameFor(const std::string& pattern, const std::string& stream_id);

// The user-visible part of a stream id as the sender wrote it: "#!::r=cam1,m=publish"
// -> "cam1" (the last r=); anything else unchanged.
std::string streamResource(const std::string& stream_id);

// The characters streamName() keeps: ASCII letters and digits, '-', '_' and '.'.
bool isStreamNameCharacter(char c);

// streamResource() with the characters unsafe in file names made '_' (a name of dots
// only becomes "_"): what names a stream's output, logs and stats.
std::string streamName(const std::string& stream_id);

// Opens the output for one stream.
Result<std::unique_ptr<Output>> openOutput(const OutputSpec& spec, const std::string& stream_id);

}  // namespace bondcast::receiver
