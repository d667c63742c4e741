// SPDX-License-Identifier: MPL-2.0
// What the two scenario parsers' fuzz targets (emulator_config, sim_scenario) share:
// inputs that name a trace or rate-series file are skipped, since those parsers would
// read the file from disk.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bondcast::fuzz {

inline bool namesTrace(std::string_view text) {
  return text.find("trace:") != std::string_view::npos ||
         text.find("series:") != std::string_view::npos;
}

// Any string, key or value, anywhere in `j` names a trace or a rate series.
inline bool jsonNamesTrace(const nlohmann::json& j) {
  if (j.is_string()) {
    return namesTrace(j.get_ref<const std::string&>());
  }
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (namesTrace(key) || jsonNamesTrace(value)) {
        return true;
      }
    }
  }
  if (j.is_array()) {
    for (const auto& value : j) {
      if (jsonNamesTrace(value)) {
        return true;
      }
    }
  }
  return false;
}

inline bool isProbability(double p) {
  return p >= 0 && p <= 1;
}

}  // namespace bondcast::fuzz
