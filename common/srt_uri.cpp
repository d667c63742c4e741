// SPDX-License-Identifier: MPL-2.0
#include "common/srt_uri.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bondcast {
namespace {

constexpr int kMaxLatencyMs = 60000;
constexpr int kMaxConnTimeoMs = 120000;

bool isCaller(SrtUriRole role) {
  return role == SrtUriRole::kLink || role == SrtUriRole::kOutputCaller;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out;
}

Result<int> integer(const Uri& uri, const std::string& key, const std::string& value, int lo,
                    int hi, const std::string& what) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || v < lo ||
      v > hi) {
    return Error{
        fmt::format("'{}://{}': {}='{}' is not {}", uri.scheme, uri.hostPort(), key, value, what)};
  }
  return v;
}

}  // namespace

std::vector<std::string> srtUriOptionNames(SrtUriRole role) {
  std::vector<std::string> names = {"latency", "passphrase", "pbkeylen"};
  if (isCaller(role)) {
    names.push_back("conntimeo");
  }
  if (role == SrtUriRole::kOutputCaller) {
    names.push_back("streamid");
  }
  return names;
}

std::string maskSecrets(std::string_view uri_text) {
  // The query starts where parseUri() starts it: at the first '?' after "://".
  const std::size_t scheme_end = uri_text.find("://");
  const std::size_t query =
      uri_text.find('?', scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  if (query == std::string_view::npos) {
    return std::string(uri_text);
  }
  std::string out(uri_text.substr(0, query));
  std::string_view rest = uri_text.substr(query);  // "?k=v&k=v"
  while (!rest.empty()) {
    const std::size_t next = rest.find('&', 1);
    std::string_view param = rest.substr(0, next);  // "?k=v" or "&k=v"
    const std::size_t eq = param.find('=');
    std::string key(param.substr(1, eq == std::string_view::npos ? param.npos : eq - 1));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (key == "passphrase" && eq != std::string_view::npos) {
      out.append(param.substr(0, eq + 1)).append("***");
    } else {
      out.append(param);
    }
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next);
  }
  return out;
}

Result<SrtUriOptions> takeSrtUriOptions(Uri& uri, SrtUriRole role,
                                        const std::vector<std::string>& also) {
  std::string where = "'" + uri.scheme + "://" + uri.hostPort();
  for (const auto& [key, value] : uri.params) {
    where += (&key == &uri.params.begin()->first ? "?" : "&") + key + "=" +
             (key == "passphrase" ? std::string("***") : value);  // never echo a secret
  }
  where += "'";
  const std::vector<std::string> mine = srtUriOptionNames(role);
  SrtUriOptions o;
  for (auto it = uri.params.begin(); it != uri.params.end();) {
    const std::string& key = it->first;
    const std::string& value = it->second;
    const bool known_srt = key == "latency" || key == "passphrase" || key == "pbkeylen" ||
                           key == "streamid" || key == "conntimeo";
    if (!known_srt) {
      if (std::find(also.begin(), also.end(), key) == also.end()) {
        std::vector<std::string> known = mine;
        known.insert(known.end(), also.begin(), also.end());
        return Error{
            fmt::format("{}: unknown parameter '{}' (known here: {})", where, key, joined(known))};
      }
      ++it;
      continue;
    }
    if (std::find(mine.begin(), mine.end(), key) == mine.end()) {
      std::string why = key == "streamid" && role == SrtUriRole::kLink
                            ? "a link's stream id is --stream-id (the same for every link)"
                        : key == "streamid" ? "only a caller announces a stream id"
                                            : "only a caller waits for a handshake";
      return Error{fmt::format("{}: {}= does not apply here ({})", where, key, why)};
    }
    if (key == "latency") {
      auto v = integer(uri, key, value, 0, kMaxLatencyMs, "a latency of 0-60000 ms");
      if (!v) {
        return v.error();
      }
      o.latency = std::chrono::milliseconds(*v);
    } else if (key == "passphrase") {
      if (value.size() < 10 || value.size() > 79) {
        return Error{where + ": passphrase= must be 10 to 79 characters long"};
      }
      o.passphrase = value;
    } else if (key == "pbkeylen") {
      auto v = integer(uri, key, value, 0, 32, "16, 24 or 32");
      if (!v || (*v != 16 && *v != 24 && *v != 32)) {
        return Error{fmt::format("{}: pbkeylen='{}' is not 16, 24 or 32", where, value)};
      }
      o.pbkeylen = *v;
    } else if (key == "streamid") {
      if (value.size() > 512) {
        return Error{where + ": streamid= is longer than 512 characters"};
      }
      o.streamid = value;
    } else if (key == "conntimeo") {
      auto v = integer(uri, key, value, 1, kMaxConnTimeoMs, "a timeout of 1-120000 ms");
      if (!v) {
        return v.error();
      }
      o.conntimeo = std::chrono::milliseconds(*v);
    }
    it = uri.params.erase(it);
  }
  return o;
}

}  // namespace bondcast
