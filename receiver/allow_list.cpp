// SPDX-License-Identifier: MPL-2.0
#include "receiver/allow_list.h"

#include <algorithm>

#include "receiver/output.h"

namespace bondcast::receiver {
namespace {

// libsrt's limits: SRTO_PASSPHRASE takes 10 to 79 characters, SRTO_STREAMID up to 512.
constexpr std::size_t kMinPassphrase = 10;
constexpr std::size_t kMaxPassphrase = 79;
constexpr std::size_t kMaxName = 512;

}  // namespace

std::string maskAllowedStream(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    return std::string(text);
  }
  return std::string(text.substr(0, eq)) + "=***";
}

Result<AllowedStream> parseAllowedStream(std::string_view text) {
  const std::string where = "allow-stream '" + maskAllowedStream(text) + "': ";
  const auto eq = text.find('=');
  AllowedStream s;
  s.name = std::string(text.substr(0, eq));
  if (s.name.empty()) {
    return Error{where + "the stream name (before '=') is empty"};
  }
  if (s.name.size() > kMaxName) {
    return Error{where + "the stream name is longer than " + std::to_string(kMaxName) +
                 " characters (SRT's stream id limit)"};
  }
  const bool plain = std::all_of(s.name.begin(), s.name.end(), isStreamNameCharacter);
  if (!plain || s.name.find_first_not_of('.') == std::string::npos) {
    return Error{where +
                 "a stream name holds letters, digits, '-', '_' and '.' only (not only dots): "
                 "the sender's plain stream id, or the r= value of SRT's #!:: form"};
  }
  if (eq != std::string_view::npos) {
    s.passphrase = std::string(text.substr(eq + 1));
    if (s.passphrase.size() < kMinPassphrase || s.passphrase.size() > kMaxPassphrase) {
      return Error{where + "the passphrase must be " + std::to_string(kMinPassphrase) + " to " +
                   std::to_string(kMaxPassphrase) + " characters long (it has " +
                   std::to_string(s.passphrase.size()) + ")"};
    }
  }
  return s;
}

Result<AllowList> AllowList::parse(const std::vector<std::string>& texts) {
  AllowList list;
  for (const auto& text : texts) {
    auto s = parseAllowedStream(text);
    if (!s) {
      return s.error();
    }
    if (list.find(s->name) != nullptr) {
      return Error{"allow-stream '" + maskAllowedStream(text) + "': stream '" + s->name +
                   "' is listed twice"};
    }
    list.streams_.push_back(std::move(*s));
  }
  return list;
}

const AllowedStream* AllowList::find(std::string_view name) const {
  auto it = std::find_if(streams_.begin(), streams_.end(),
                         [&](const AllowedStream& s) { return s.name == name; });
  return it == streams_.end() ? nullptr : &*it;
}

}  // namespace bondcast::receiver
