// SPDX-License-Identifier: MPL-2.0
// A strict reader of Prometheus' text exposition format (version 0.0.4) for tests: it
// checks every line (metric and label names, label syntax and escapes, a value that
// parses as a float, `# HELP` and `# TYPE` once per family and before its samples, a
// family's samples together, no series twice, counters named `_total`) and returns what
// it read. Written from the format's description, not from Prometheus' parser.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace bondcast::testing {

struct Exposition {
  struct Family {
    std::string type;  // counter | gauge | ...
    std::string help;  // unescaped
  };
  std::map<std::string, Family> families;
  // "name{a=\"x\",b=\"y\"}" (labels as written, escapes undone and re-applied: the
  // series' identity) -> value.
  std::map<std::string, double> series;
  // Label sets by metric name, unescaped.
  std::map<std::string, std::vector<std::map<std::string, std::string>>> labels;
  std::vector<std::string> errors;  // "line N: what is wrong"; empty: well-formed
};

Exposition parseExposition(const std::string& text);

}  // namespace bondcast::testing
