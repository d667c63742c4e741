// SPDX-License-Identifier: MPL-2.0
// Stats records (the JSON the sender and receiver produce) as GstStructures, for the
// elements' `stats` property and their once-a-second element messages.
#pragma once

#include <gst/gst.h>

#include <nlohmann/json.hpp>

namespace bondcast::gst {

// Keys become field names with '_' replaced by '-'; numbers become guint64, gint64 or
// gdouble; arrays become GST_TYPE_ARRAY; objects become GstStructures named after
// their key ("links" items are "link"). Null values are left out.
GstStructure* structureFromJson(const char* name, const nlohmann::json& record);

}  // namespace bondcast::gst
