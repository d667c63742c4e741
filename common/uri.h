// SPDX-License-Identifier: MPL-2.0
// URIs of links, inputs and outputs, following srt-live-transmit / ffmpeg conventions:
//   srt://HOST:PORT?key=value&...   caller (HOST given) or listener (no HOST, "srt://:PORT")
//   udp://@:PORT, udp://ADDR:PORT   UDP listen ("@" or empty host) or send/receive address
// Parsing only; no sockets here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace bondcast {

struct Uri {
  std::string scheme;          // "srt", "udp"
  std::string host;            // empty for "srt://:PORT"; "@" is stored as empty with listen_marker
  bool listen_marker = false;  // "udp://@:PORT"
  std::uint16_t port = 0;
  std::map<std::string, std::string> params;  // query string, keys lower-case

  bool isListener() const { return host.empty(); }
  std::optional<std::string> param(const std::string& key) const;
  std::string hostPort() const;  // "HOST:PORT" or ":PORT"
};

// Parses "scheme://host:port?k=v&k2=v2". IPv6 hosts in brackets ("[::1]:9000").
// Errors name the URI and what is wrong with it.
Result<Uri> parseUri(std::string_view text);

// "ADDR" or "ADDR:PORT" (the bind= parameter); port 0 when absent.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
Result<HostPort> parseHostPort(std::string_view text, bool port_required);

}  // namespace bondcast
