// SPDX-License-Identifier: MPL-2.0
// The SRT options an srt:// URI may carry, named as srt-live-transmit and ffmpeg name
// them, one grammar for every URI that has them: links, listeners, outputs, inputs.
//
//   latency=MS      the SRT latency (receiver buffer; adaptive links: the deadline)
//   passphrase=S    encryption, 10-79 characters; a listener refuses callers without it
//   pbkeylen=N      key length in bytes: 16, 24 or 32 (needs a passphrase)
//   streamid=S      what a caller announces (SRTO_STREAMID)
//   conntimeo=MS    how long a caller waits for the handshake
//
// Which apply depends on the role; one that does not apply, an unknown parameter and a
// value of the wrong type are all errors naming the URI and the parameter. The command
// line's options are the defaults; a URI's override them for that URI only. Pure: no
// libsrt here (common/srt applies them to sockets).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/uri.h"

namespace bondcast {

enum class SrtUriRole {
  kLink,            // bondcast send --link srt://HOST:PORT (a caller)
  kListener,        // bondcast recv --listen srt://[ADDR]:PORT
  kOutputListener,  // bondcast recv --output srt://:PORT (players call in)
  kOutputCaller,    // bondcast recv --output srt://HOST:PORT (push to a server)
  kInputListener,   // bondcast send --input srt://:PORT (an encoder calls in)
};

struct SrtUriOptions {
  std::optional<std::chrono::milliseconds> latency;
  std::optional<std::string> passphrase;
  std::optional<int> pbkeylen;
  std::optional<std::string> streamid;
  std::optional<std::chrono::milliseconds> conntimeo;
  bool empty() const { return !latency && !passphrase && !pbkeylen && !streamid && !conntimeo; }
};

// Takes the SRT options for `role` out of uri.params; every other parameter must be one
// of `also` (e.g. a link's weight, bind, dev, cost; an input's mode), else it is an error
// naming it and listing the known ones.
Result<SrtUriOptions> takeSrtUriOptions(Uri& uri, SrtUriRole role,
                                        const std::vector<std::string>& also = {});

// The names a role takes (for messages and --help).
std::vector<std::string> srtUriOptionNames(SrtUriRole role);

// A URI as given with the value of every passphrase= replaced by ***: for logs, stats
// and messages, which must never show a secret.
std::string maskSecrets(std::string_view uri_text);

}  // namespace bondcast
