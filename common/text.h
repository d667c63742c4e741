// SPDX-License-Identifier: MPL-2.0
// Small text helpers shared by the parsers (traces, link specs, scenarios).
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace bondcast {

// `s` without leading and trailing white space.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

// "a, b,,c" -> {"a", "b", "c"}: the comma-separated lists of GStreamer properties.
inline std::vector<std::string> splitCommaList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty())
      out.emplace_back(item);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace bondcast
