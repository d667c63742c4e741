// SPDX-License-Identifier: MPL-2.0
#include "plugins/gstreamer/stats_structure.h"

#include <string>

namespace bondcast::gst {
namespace {

std::string fieldName(const std::string& key) {
  std::string out = key;
  for (char& c : out) {
    if (c == '_')
      c = '-';
  }
  return out;
}

std::string itemName(const std::string& key) {
  if (key.size() > 1 && key.back() == 's')
    return key.substr(0, key.size() - 1);
  return key;
}

// Returns false for values that have no GValue form (null).
bool toValue(GValue* v, const std::string& key, const nlohmann::json& x) {
  if (x.is_boolean()) {
    g_value_init(v, G_TYPE_BOOLEAN);
    g_value_set_boolean(v, x.get<bool>());
  } else if (x.is_number_unsigned()) {
    g_value_init(v, G_TYPE_UINT64);
    g_value_set_uint64(v, x.get<std::uint64_t>());
  } else if (x.is_number_integer()) {
    g_value_init(v, G_TYPE_INT64);
    g_value_set_int64(v, x.get<std::int64_t>());
  } else if (x.is_number_float()) {
    g_value_init(v, G_TYPE_DOUBLE);
    g_value_set_double(v, x.get<double>());
  } else if (x.is_string()) {
    g_value_init(v, G_TYPE_STRING);
    g_value_set_string(v, x.get<std::string>().c_str());
  } else if (x.is_object()) {
    g_value_init(v, GST_TYPE_STRUCTURE);
    GstStructure* s = structureFromJson(key.c_str(), x);
    gst_value_set_structure(v, s);
    gst_structure_free(s);
  } else if (x.is_array()) {
    g_value_init(v, GST_TYPE_ARRAY);
    std::string item = itemName(key);
    for (const auto& e : x) {
      GValue ev = G_VALUE_INIT;
      if (toValue(&ev, item, e))
        gst_value_array_append_and_take_value(v, &ev);
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace

GstStructure* structureFromJson(const char* name, const nlohmann::json& record) {
  GstStructure* s = gst_structure_new_empty(name);
  if (!record.is_object())
    return s;
  for (const auto& [key, x] : record.items()) {
    GValue v = G_VALUE_INIT;
    if (toValue(&v, key, x))
      gst_structure_take_value(s, fieldName(key).c_str(), &v);
  }
  return s;
}

}  // namespace bondcast::gst
