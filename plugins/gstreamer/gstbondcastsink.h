// SPDX-License-Identifier: MPL-2.0
// bondcastsink: sends MPEG-TS over bonded SRT links with the sender engine
// (sender/send_session.h). The element only wires GstBaseSink to a SendSession.
#pragma once

#include <gst/base/gstbasesink.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_BONDCAST_SINK (gst_bondcast_sink_get_type())
G_DECLARE_FINAL_TYPE(GstBondcastSink, gst_bondcast_sink, GST, BONDCAST_SINK, GstBaseSink)

G_END_DECLS
