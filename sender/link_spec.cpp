// SPDX-License-Identifier: MPL-2.0
#include "sender/link_spec.h"

#include <net/if.h>

#include <charconv>

#include "common/uri.h"

namespace bondcast::sender {

Result<LinkSpec> parseLinkSpec(std::string_view text) {
  auto uri = parseUri(text);
  if (!uri)
    return Error{"link: " + uri.error().message};
  auto bad = [&](const std::string& why) {
    return Error{"link '" + maskSecrets(text) + "': " + why};
  };
  auto srt = takeSrtUriOptions(*uri, SrtUriRole::kLink, {"weight", "bind", "dev", "cost"});
  if (!srt)
    return Error{"link: " + srt.error().message};
  if (uri->scheme != "srt" && uri->scheme != "srtla")
    return bad("scheme must be srt:// (or srtla:// in srtla mode; got '" + uri->scheme + "')");
  if (uri->host.empty())
    return bad("a link needs the receiver's HOST:PORT");
  if (uri->port == 0)
    return bad("port 0 is not a receiver port");
  LinkSpec link;
  link.scheme = uri->scheme;
  link.text = maskSecrets(text);
  link.uri = std::string(text);
  link.host = uri->host;
  link.port = uri->port;
  link.srt = *srt;
  for (const auto& [key, value] : uri->params) {
    if (key == "weight") {
      int w = -1;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), w);
      if (ec != std::errc() || ptr != value.data() + value.size() || w < 0 || w > 65535) {
        return bad("weight '" + value + "' is not a number from 0 to 65535");
      }
      link.weight = w;
    } else if (key == "bind") {
      auto hp = parseHostPort(value, false);
      if (!hp || hp->host.empty())
        return bad("bind '" + value + "' is not ADDR or ADDR:PORT");
      link.bind_host = hp->host;
      link.bind_port = hp->port;
    } else if (key == "dev") {
      if (value.empty() || value.size() >= IF_NAMESIZE || value.find('/') != std::string::npos)
        return bad("dev '" + value + "' is not a network interface name");
      link.device = value;
    } else if (key == "cost") {
      double c = -1;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), c);
      if (ec != std::errc() || ptr != value.data() + value.size() || c < 0) {
        return bad("cost '" + value + "' is not a non-negative number");
      }
      link.cost = c;
    }
  }
  return link;
}

Status checkLinkDevice(const LinkSpec& link) {
  if (!link.device.empty() && if_nametoindex(link.device.c_str()) == 0) {
    return Error{"link '" + link.text + "': no network interface '" + link.device +
                 "' on this machine"};
  }
  return okStatus();
}

}  // namespace bondcast::sender
