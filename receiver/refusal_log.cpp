// SPDX-License-Identifier: MPL-2.0
#include "receiver/refusal_log.h"

#include <spdlog/fmt/fmt.h>

namespace bondcast::receiver {

std::optional<std::string> RefusalLog::refused(std::string_view kind, std::uint64_t count,
                                               std::string detail, Clock::time_point now) {
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) {
    it = kinds_.emplace(std::string(kind), Kind{}).first;
  }
  Kind& k = it->second;
  k.unlogged += count;
  k.detail = std::move(detail);
  if (k.last_line && now - *k.last_line < kInterval) {
    return std::nullopt;
  }
  return line(it->first, k, now);
}

std::vector<std::string> RefusalLog::due(Clock::time_point now) {
  std::vector<std::string> lines;
  for (auto& [kind, k] : kinds_) {
    if (k.unlogged > 0 && (!k.last_line || now - *k.last_line >= kInterval)) {
      lines.push_back(line(kind, k, now));
    }
  }
  return lines;
}

// "refused a handshake (unknown_stream): stream 'cam9' is not in --allow-stream", or for
// several since the kind's last line: "refused 57 handshakes (unknown_stream) in the last
// 1.0 s; the latest: ...".
std::string RefusalLog::line(std::string_view kind, Kind& k, Clock::time_point now) {
  std::string text;
  if (k.unlogged == 1) {
    text = fmt::format("refused a handshake ({}): {}", kind, k.detail);
  } else if (!k.last_line) {
    text = fmt::format("refused {} handshakes ({}); the latest: {}", k.unlogged, kind, k.detail);
  } else {
    const double seconds = std::chrono::duration<double>(now - *k.last_line).count();
    text = fmt::format("refused {} handshakes ({}) in the last {:.1f} s; the latest: {}",
                       k.unlogged, kind, seconds, k.detail);
  }
  k.unlogged = 0;
  k.last_line = now;
  return text;
}

}  // namespace bondcast::receiver
