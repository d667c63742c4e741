// SPDX-License-Identifier: MPL-2.0
#include "common/prometheus.h"

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace bondcast::prom {
namespace {

bool validName(std::string_view name, bool colon_allowed) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) {
      return false;
    }
  }
  return true;
}

const char* typeName(Type type) {
  return type == Type::kCounter ? "counter" : "gauge";
}

// The text format's escapes: backslash and newline everywhere, the double quote too in
// a label value (it ends the value there).
std::string escapeText(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string escapeLabelValue(std::string_view value) {
  return escapeText(value, true);
}

std::string escapeHelp(std::string_view help) {
  return escapeText(help, false);
}

std::string formatValue(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc()) {
    return "NaN";  // cannot happen: 32 characters hold any double's shortest form
  }
  return {buf.data(), end};
}

void Exposition::add(const std::string& name, Type type, std::string_view help,
                     const Labels& labels, double value) {
  if (!validName(name, true)) {
    throw std::invalid_argument("invalid Prometheus metric name '" + name + "'");
  }
  std::string label_text;
  for (const auto& [label, text] : labels) {
    if (!validName(label, false) || label.starts_with("__")) {
      throw std::invalid_argument("invalid Prometheus label name '" + label + "'");
    }
    label_text += label_text.empty() ? "{" : ",";
    label_text += label + "=\"" + escapeLabelValue(text) + "\"";
  }
  if (!label_text.empty()) {
    label_text += "}";
  }
  auto it = index_.find(name);
  if (it == index_.end()) {
    it = index_.emplace(name, families_.size()).first;
    families_.push_back({name, type, std::string(help), {}, {}});
  }
  Family& family = families_[it->second];
  if (!family.series.insert(label_text).second) {
    return;  // first value wins
  }
  family.samples.push_back(name + label_text + " " + formatValue(value));
}

std::string Exposition::text() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP " + f.name + " " + escapeHelp(f.help) + "\n";
    out += "# TYPE " + f.name + " " + typeName(f.type) + "\n";
    for (const auto& line : f.samples) {
      out += line + "\n";
    }
  }
  return out;
}

}  // namespace bondcast::prom
