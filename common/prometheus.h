// SPDX-License-Identifier: MPL-2.0
// Prometheus' text exposition format, version 0.0.4: metric families, each with one
// `# HELP` and one `# TYPE` line, then its samples. Pure: builds a string, no I/O.
//
// Names follow Prometheus' rules (snake_case, base units: seconds and bytes, `_total`
// for counters); the caller chooses them, this class only escapes and orders. Label
// values and help texts are escaped as the format says (backslash, double quote in
// label values, newline). A series (name and labels) added twice keeps its first value:
// Prometheus refuses a scrape that holds a series twice.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bondcast::prom {

// What HTTP servers send with the text: the format's version is part of it.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class Type { kCounter, kGauge };

// Label names and values, in the order they are written.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Exposition {
 public:
  // Adds one sample of family `name` (declared by its first sample: type and help are
  // taken from it). `name` must match [a-zA-Z_:][a-zA-Z0-9_:]* and each label name
  // [a-zA-Z_][a-zA-Z0-9_]* (std::invalid_argument otherwise: a programming error).
  void add(const std::string& name, Type type, std::string_view help, const Labels& labels,
           double value);
  // The families in the order they were first added, each with its samples.
  std::string text() const;

 private:
  struct Family {
    std::string name;
    Type type;
    std::string help;
    std::vector<std::string> samples;  // whole lines
    std::set<std::string> series;      // label texts, to refuse a series twice
  };
  std::vector<Family> families_;
  std::map<std::string, std::size_t, std::less<>> index_;  // by name
};

// `\` -> `\\`, `"` -> `\"`, newline -> `\n`.
std::string escapeLabelValue(std::string_view value);
// `\` -> `\\`, newline -> `\n` (a help text keeps its quotes).
std::string escapeHelp(std::string_view help);
// The shortest text that reads back as `value`; NaN, +Inf, -Inf as the format spells them.
std::string formatValue(double value);

}  // namespace bondcast::prom
