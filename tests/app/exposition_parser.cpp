// SPDX-License-Identifier: MPL-2.0
#include "tests/app/exposition_parser.h"

#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

namespace bondcast::testing {
namespace {

const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");

bool parseValue(const std::string& text, double& value) {
  if (text == "NaN") {
    value = std::nan("");
    return true;
  }
  if (text == "+Inf" || text == "-Inf") {
    value = text[0] == '+' ? HUGE_VAL : -HUGE_VAL;
    return true;
  }
  if (text.empty()) {
    return false;
  }
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

// Reads `{name="value",...}` from line[pos] (pos at '{'); pos ends after '}'.
bool parseLabels(const std::string& line, std::size_t& pos,
                 std::map<std::string, std::string>& labels, std::string& why) {
  ++pos;  // '{'
  while (pos < line.size() && line[pos] != '}') {
    const std::size_t eq = line.find('=', pos);
    if (eq == std::string::npos) {
      why = "label without '='";
      return false;
    }
    const std::string name = line.substr(pos, eq - pos);
    if (!std::regex_match(name, kLabelName)) {
      why = "bad label name '" + name + "'";
      return false;
    }
    pos = eq + 1;
    if (pos >= line.size() || line[pos] != '"') {
      why = "label value of '" + name + "' not quoted";
      return false;
    }
    ++pos;
    std::string value;
    bool closed = false;
    while (pos < line.size()) {
      const char c = line[pos++];
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\') {
        if (pos >= line.size()) {
          why = "escape at end of line";
          return false;
        }
        const char e = line[pos++];
        if (e == '\\' || e == '"') {
          value += e;
        } else if (e == 'n') {
          value += '\n';
        } else {
          why = std::string("bad escape \\") + e + " in label '" + name + "'";
          return false;
        }
      } else {
        value += c;
      }
    }
    if (!closed) {
      why = "unterminated label value of '" + name + "'";
      return false;
    }
    if (!labels.emplace(name, value).second) {
      why = "label '" + name + "' twice";
      return false;
    }
    if (pos < line.size() && line[pos] == ',') {
      ++pos;
    } else if (pos < line.size() && line[pos] != '}') {
      why = "expected ',' or '}' after label '" + name + "'";
      return false;
    }
  }
  if (pos >= line.size()) {
    why = "labels not closed with '}'";
    return false;
  }
  ++pos;  // '}'
  return true;
}

std::string seriesKey(const std::string& name, const std::map<std::string, std::string>& labels) {
  std::string key = name + "{";
  for (const auto& [k, v] : labels) {
    key.append(k).append("=\"").append(v).append("\",");
  }
  return key + "}";
}

}  // namespace

Exposition parseExposition(const std::string& text) {
  Exposition out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  std::set<std::string> helped, typed, ended;  // ended: families whose samples are done
  std::string current;                         // family of the last sample
  auto error = [&](const std::string& why) {
    out.errors.push_back("line " + std::to_string(n) + ": " + why + ": " + line);
  };
  if (!text.empty() && text.back() != '\n') {
    out.errors.push_back("the text does not end with a newline");
  }
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) {
      error("empty line");
      continue;
    }
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      if (hash != "#" || (kind != "HELP" && kind != "TYPE")) {
        error("comment that is neither # HELP nor # TYPE");
        continue;
      }
      if (!std::regex_match(name, kMetricName)) {
        error("bad metric name");
        continue;
      }
      if (ended.count(name) || current == name) {
        error(kind + " after the family's samples");
      }
      std::string rest;
      std::getline(words >> std::ws, rest);
      if (kind == "HELP") {
        if (!helped.insert(name).second) {
          error("second HELP");
        }
        std::string help;
        for (std::size_t i = 0; i < rest.size(); ++i) {
          if (rest[i] == '\\' && i + 1 < rest.size()) {
            const char e = rest[++i];
            if (e == 'n') {
              help += '\n';
            } else if (e == '\\') {
              help += '\\';
            } else {
              error(std::string("bad escape \\") + e + " in HELP");
            }
          } else {
            help += rest[i];
          }
        }
        out.families[name].help = help;
      } else {
        if (!typed.insert(name).second) {
          error("second TYPE");
        }
        if (rest != "counter" && rest != "gauge" && rest != "histogram" && rest != "summary" &&
            rest != "untyped") {
          error("unknown type '" + rest + "'");
        }
        out.families[name].type = rest;
      }
      continue;
    }
    std::size_t pos = 0;
    while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') {
      ++pos;
    }
    const std::string name = line.substr(0, pos);
    if (!std::regex_match(name, kMetricName)) {
      error("bad metric name '" + name + "'");
      continue;
    }
    std::map<std::string, std::string> labels;
    std::string why;
    if (pos < line.size() && line[pos] == '{' && !parseLabels(line, pos, labels, why)) {
      error(why);
      continue;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      error("no space before the value");
      continue;
    }
    double value = 0;
    if (!parseValue(line.substr(pos + 1), value)) {
      error("value '" + line.substr(pos + 1) + "' is not a float (or has a timestamp)");
      continue;
    }
    if (!typed.count(name) || !helped.count(name)) {
      error("sample before its family's HELP and TYPE");
    }
    if (name != current) {
      if (ended.count(name)) {
        error("family's samples not together");
      }
      if (!current.empty()) {
        ended.insert(current);
      }
      current = name;
    }
    if (out.families[name].type == "counter") {
      if (!name.ends_with("_total")) {
        error("counter not named *_total");
      }
      if (value < 0) {
        error("negative counter");
      }
    }
    if (!out.series.emplace(seriesKey(name, labels), value).second) {
      error("series twice");
    }
    out.labels[name].push_back(labels);
  }
  return out;
}

}  // namespace bondcast::testing
