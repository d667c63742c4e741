// SPDX-License-Identifier: MPL-2.0
// One sender link as the user names it on the command line:
//   srt://HOST:PORT?weight=N&bind=LOCAL_ADDR[:PORT]&dev=IFNAME&cost=C&passphrase=...
//   srtla://HOST:PORT?bind=LOCAL_ADDR[:PORT]&dev=IFNAME&cost=C (send --mode srtla)
// and SRT's own options where they apply (common/srt_uri.h: latency, passphrase,
// pbkeylen, conntimeo; the command line's are the defaults).
// weight: backup priority (higher is preferred), bind: the local address of the
// modem/interface this link leaves from, dev: the network interface it must leave by
// (SO_BINDTODEVICE, needs root or CAP_NET_RAW), cost: relative price of the link
// (adaptive mode prefers cheaper links when deadlines allow).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/srt_uri.h"

namespace bondcast::sender {

struct LinkSpec {
  std::string scheme = "srt";  // srt, or srtla (send --mode srtla: a link of an SRTLA group)
  std::string text;            // as given with passphrases masked, for logs and stats
  std::string uri;  // exactly as given: what a reload compares (may hold a secret: never log it)
  std::string host;
  std::uint16_t port = 0;
  int weight = 0;  // 0..65535
  std::string bind_host;
  std::uint16_t bind_port = 0;
  std::string device;  // network interface name, or empty
  double cost = 1.0;
  SrtUriOptions srt;  // what the URI sets of SRT's options
};

// Errors name the link and the parameter that is wrong.
Result<LinkSpec> parseLinkSpec(std::string_view text);

// Checks what parsing cannot: that the link's network interface exists on this machine.
Status checkLinkDevice(const LinkSpec& link);

}  // namespace bondcast::sender
