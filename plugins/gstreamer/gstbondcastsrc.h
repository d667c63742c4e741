// SPDX-License-Identifier: MPL-2.0
// bondcastsrc: outputs the stream the receiver engine (receiver/receiver.h) rebuilds
// from bonded SRT links. The element only wires GstPushSrc to a Receiver.
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_BONDCAST_SRC (gst_bondcast_src_get_type())
G_DECLARE_FINAL_TYPE(GstBondcastSrc, gst_bondcast_src, GST, BONDCAST_SRC, GstPushSrc)

G_END_DECLS
