// SPDX-License-Identifier: MPL-2.0
#include "app/http_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace bondcast::app {
namespace {

Error bad(std::string_view text, const std::string& why) {
  return Error{"'" + std::string(text) + "': " + why +
               " (expected PORT, :PORT, IPV4:PORT or [IPV6]:PORT)"};
}

}  // namespace

std::string HttpAddress::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HttpAddress> parseHttpAddress(std::string_view text) {
  HttpAddress a;
  std::string_view port = text;
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.starts_with('[')) {
      if (!host.ends_with(']') || host.size() < 3) {
        return bad(text, "an IPv6 address needs its closing ']'");
      }
      a.host = std::string(host.substr(1, host.size() - 2));
      in6_addr v6{};
      if (inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) {
        return bad(text, "'" + a.host + "' is not an IPv6 address");
      }
    } else if (host == "localhost") {
      a.host = "127.0.0.1";
    } else if (!host.empty()) {
      a.host = std::string(host);
      in_addr v4{};
      if (a.host.find(':') != std::string::npos) {
        return bad(text, "an IPv6 address must be in brackets");
      }
      if (inet_pton(AF_INET, a.host.c_str(), &v4) != 1) {
        return bad(text, "'" + a.host + "' is not an IPv4 address");
      }
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad(text, "the port must be a number from 0 to 65535");
  }
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

}  // namespace bondcast::app
