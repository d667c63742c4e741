// SPDX-License-Identifier: MPL-2.0
#include "common/uri.h"

#include <cctype>
#include <charconv>

#include "common/srt_uri.h"

namespace bondcast {
namespace {

// The URI as given, its passphrase masked: errors end up on stderr and in logs.
Error bad(std::string_view text, const std::string& why) {
  return Error{"malformed URI '" + maskSecrets(text) + "': " + why};
}

Result<std::uint16_t> parsePort(std::string_view s, std::string_view whole) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || value > 65535) {
    return bad(whole, "port '" + std::string(s) + "' is not a number from 0 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

std::string percentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> Uri::param(const std::string& key) const {
  auto it = params.find(key);
  if (it == params.end())
    return std::nullopt;
  return it->second;
}

std::string Uri::hostPort() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Result<HostPort> parseHostPort(std::string_view text, bool port_required) {
  HostPort out;
  std::string_view rest = text;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      return bad(text, "unclosed '[' in address");
    out.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return bad(text, "expected ':' after ']'");
  } else {
    auto colon = rest.rfind(':');
    out.host = std::string(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
  }
  if (rest.empty()) {
    if (port_required)
      return bad(text, "no port (expected HOST:PORT or :PORT)");
    return out;
  }
  auto port = parsePort(rest.substr(1), text);
  if (!port)
    return port.error();
  out.port = *port;
  return out;
}

Result<Uri> parseUri(std::string_view text) {
  Uri uri;
  auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return bad(text, "expected SCHEME://HOST:PORT");
  for (char c : text.substr(0, sep)) {
    uri.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string_view rest = text.substr(sep + 3);
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  if (!rest.empty() && rest.front() == '@') {
    uri.listen_marker = true;
    rest.remove_prefix(1);
  }
  auto hp = parseHostPort(rest, true);
  if (!hp)
    return bad(text, hp.error().message.substr(hp.error().message.find(": ") + 2));
  uri.host = hp->host;
  uri.port = hp->port;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (kv.empty())
      continue;
    auto eq = kv.find('=');
    if (eq == 0)
      return bad(text, "empty parameter name in '" + std::string(kv) + "'");
    std::string key;
    for (char c : kv.substr(0, eq)) {
      key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    uri.params[key] = eq == std::string_view::npos ? "" : percentDecode(kv.substr(eq + 1));
  }
  return uri;
}

}  // namespace bondcast
