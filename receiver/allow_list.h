// SPDX-License-Identifier: MPL-2.0
// `bondcast recv --allow-stream NAME[=PASSPHRASE]`: the streams a receiver takes, each
// with a passphrase of its own, so that one port serves several senders with separate
// secrets (issue 16). Pure: no libsrt, no I/O.
//
// NAME is a stream's name as the receiver names outputs (output.h streamName): a
// sender's plain --stream-id, or the r= of SRT's access-control form ("#!::r=cam1,...");
// an adaptive link's stream id carries the sender's (common/wire.h). A stream whose
// name is not listed is refused at its handshake. A listed stream's PASSPHRASE is set on
// its connection in the listen callback, so libsrt refuses a caller with any other
// passphrase; without one, the port's own passphrase (listen URI or --passphrase)
// holds. An empty list takes every stream, as without the option.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace bondcast::receiver {

struct AllowedStream {
  std::string name;
  std::string passphrase;  // "" = the port's
};

// One NAME[=PASSPHRASE], checked: NAME not empty, only characters streamName() keeps
// (letters, digits, '-', '_', '.'; a name that would change could never match) and not
// only dots; PASSPHRASE (after the first '='), when there is a '=', 10 to 79
// characters as libsrt requires. Errors read "allow-stream 'cam1=***': ..." and never
// show the passphrase.
Result<AllowedStream> parseAllowedStream(std::string_view text);

class AllowList {
 public:
  AllowList() = default;
  // Every entry checked by parseAllowedStream; a NAME given twice is an error naming it.
  static Result<AllowList> parse(const std::vector<std::string>& texts);

  // True when every stream is taken (no --allow-stream).
  bool empty() const { return streams_.empty(); }
  std::size_t size() const { return streams_.size(); }
  // The entry for a stream whose name (unsanitized: the plain id or its r= value, see
  // streamResource() in output.h) is `name`; nullptr when it is not listed.
  const AllowedStream* find(std::string_view name) const;
  const std::vector<AllowedStream>& streams() const { return streams_; }

 private:
  std::vector<AllowedStream> streams_;
};

// "cam1=first-secret" -> "cam1=***": an entry as it may appear in messages and logs.
std::string maskAllowedStream(std::string_view text);

}  // namespace bondcast::receiver
