// SPDX-License-Identifier: MPL-2.0
// `--http [ADDR]:PORT`: where the metrics endpoint listens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "common/result.h"

namespace bondcast::app {

struct HttpAddress {
  std::string host = "127.0.0.1";  // a numeric IPv4 or IPv6 address (no brackets)
  std::uint16_t port = 0;          // 0: any free port
  // host:port, an IPv6 host in brackets ("[::1]:9100").
  std::string text() const;
  bool operator==(const HttpAddress&) const = default;
};

// "PORT" and ":PORT": 127.0.0.1 (this host only); "ADDR:PORT" with an IPv4 address,
// "localhost" (127.0.0.1) or an IPv6 address in brackets ("[::]:9100",
// "0.0.0.0:9100": every interface). PORT is 0 to 65535 (0: any free one). The error
// names the text and what is wrong with it ("'nonsense': the port must be ...").
Result<HttpAddress> parseHttpAddress(std::string_view text);

// parseHttpAddress as --http's CLI11 check (a usage error, exit 2, names the value).
inline const CLI::Validator kHttpAddressValidator(
    [](std::string& text) {
      auto a = parseHttpAddress(text);
      return a ? std::string() : a.error().message;
    },
    "");

// send's and recv's --http option, stored in `target`, checked with kHttpAddressValidator.
inline CLI::Option* addHttpOption(CLI::App& sub, std::string& target) {
  return sub
      .add_option("--http", target,
                  "serve over HTTP on [ADDR:]PORT: /metrics (Prometheus text format 0.0.4; "
                  "seconds, bytes), /stats (the latest stats record, JSON) and /health (200 "
                  "or 503, JSON). PORT or :PORT: 127.0.0.1 only; 0.0.0.0:PORT or [::]:PORT: "
                  "every interface; port 0: any free one (logged)")
      ->type_name("[ADDR:]PORT")
      ->check(kHttpAddressValidator);
}

}  // namespace bondcast::app
