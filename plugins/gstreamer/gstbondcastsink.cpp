// SPDX-License-Identifier: MPL-2.0
#include "plugins/gstreamer/gstbondcastsink.h"
#include "common/text.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "common/srt/srt.h"
#include "plugins/gstreamer/adapters.h"
#include "plugins/gstreamer/element_members.h"
#include "plugins/gstreamer/encoder_bitrate.h"
#include "plugins/gstreamer/stats_structure.h"
#include "sender/send_session.h"

GST_DEBUG_CATEGORY_STATIC(bondcastsink_debug);
#define GST_CAT_DEFAULT bondcastsink_debug

namespace {

using bondcast::gst::ByteQueue;

enum Mode { kBroadcast, kBackup, kAdaptive };
bondcast::sender::SendMode sendMode(int m) {
  using bondcast::sender::SendMode;
  return m == kBackup     ? SendMode::kBackup
         : m == kAdaptive ? SendMode::kAdaptive
                          : SendMode::kBroadcast;
}

// User settings; each default is defined here once.
struct Settings {
  int mode = kBroadcast;
  std::string links;
  guint latency_ms = 200;
  std::string passphrase;
  std::string stream_id;
  std::string policy = "latency-aware";
  double redundancy_budget = bondcast::sched::kDefaultOverheadBudget;
  bool auto_bitrate = false;
  guint min_bitrate_kbps = 500;
  guint max_bitrate_kbps = 20000;
};

// What exists between start() and stop().
struct State {
  std::unique_ptr<bondcast::srt::Runtime> runtime;
  std::shared_ptr<ByteQueue> queue;
  std::unique_ptr<bondcast::gst::QueueInput> input;
  std::unique_ptr<bondcast::sender::SendSession> session;
  std::thread thread;
  std::mutex mu;  // guards the fields below
  std::condition_variable cv;
  bool done = false;      // the session's run() returned
  bool stopping = false;  // stop() was called
  bool flushing = false;
  nlohmann::json last_stats;
  std::uint64_t recommended_bps = 0;
  std::uint64_t encoder_bps = 0;
  bondcast::gst::BitrateController controller;  // used on the stats thread only
};

constexpr std::size_t kQueueBytes = 1 << 20;

}  // namespace

struct _GstBondcastSink {
  GstBaseSink parent;
  std::mutex settings_mu;
  Settings settings;
  State* state;         // null when stopped
  std::mutex state_mu;  // guards `state` (the pointer) against the stats property
};

enum {
  PROP_0,
  PROP_MODE,
  PROP_LINKS,
  PROP_LATENCY,
  PROP_PASSPHRASE,
  PROP_STREAM_ID,
  PROP_POLICY,
  PROP_REDUNDANCY_BUDGET,
  PROP_AUTO_BITRATE,
  PROP_MIN_BITRATE,
  PROP_MAX_BITRATE,
  PROP_STATS,
};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS("video/mpegts, systemstream=(boolean)true"));

G_DEFINE_TYPE(GstBondcastSink, gst_bondcast_sink, GST_TYPE_BASE_SINK)

static GType bondcast_mode_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {kBroadcast, "Every link carries every packet (SRT broadcast group)", "broadcast"},
      {kBackup, "One link carries the stream, the others stand by (SRT backup group)", "backup"},
      {kAdaptive,
       "Packets split over the links by expected arrival time: their summed capacity "
       "(one SRT connection per link, bondcast's scheduler)",
       "adaptive"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstBondcastMode", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

// The stats record as a structure; `st` may be null (stopped).
static GstStructure* statsStructure(GstBondcastSink* self, State* st) {
  nlohmann::json j;
  std::uint64_t rec = 0, enc = 0;
  if (st) {
    std::lock_guard slock(st->mu);
    j = st->last_stats;
    rec = st->recommended_bps;
    enc = st->encoder_bps;
  }
  if (j.is_null()) {
    std::lock_guard lock(self->settings_mu);
    j = {{"mode", bondcast::sender::toString(sendMode(self->settings.mode))},
         {"input_bytes", 0u},
         {"payloads", 0u},
         {"payloads_sent", 0u},
         {"payloads_dropped", 0u},
         {"reconnects", 0u},
         {"links", nlohmann::json::array()}};
  }
  j.erase("final");
  j["recommended_bitrate"] = rec;
  j["encoder_bitrate"] = enc;
  return bondcast::gst::structureFromJson("bondcastsink-stats", j);
}

// Stats thread of the session, once a second (and once at the end).
static void onStats(GstBondcastSink* self, State* st, const nlohmann::json& j) {
  bool auto_bitrate;
  std::uint64_t lo, hi;
  int latency_ms;
  {
    std::lock_guard lock(self->settings_mu);
    auto_bitrate = self->settings.auto_bitrate;
    lo = self->settings.min_bitrate_kbps * 1000ull;
    hi = std::max<std::uint64_t>(lo, self->settings.max_bitrate_kbps * 1000ull);
    latency_ms = static_cast<int>(self->settings.latency_ms);
  }
  const bondcast::gst::EncoderBitrate* which = nullptr;
  GstElement* enc =
      auto_bitrate ? bondcast::gst::findUpstreamEncoder(GST_ELEMENT(self), &which) : nullptr;
  std::uint64_t now = enc ? bondcast::gst::encoderBitrate(enc, *which) : 0;
  // Adaptive mode recommends from the capacity its links are measured to deliver; the
  // group modes by AIMD on send-buffer growth and drops.
  std::uint64_t rec = 0;
  if (const auto measured = st->session->recommendedBitrateBps()) {
    rec = *measured > 0 ? std::clamp(*measured, lo, hi) : 0;
  } else {
    rec = st->controller.update(j, latency_ms, lo, hi, now);
  }
  {
    std::lock_guard lock(st->mu);
    st->last_stats = j;
    st->recommended_bps = rec;
  }
  if (enc) {
    // Small changes are not worth an encoder reconfiguration.
    if (rec > 0 && (now == 0 || rec * 20 < now * 19 || rec * 20 > now * 21)) {
      now = bondcast::gst::setEncoderBitrate(enc, *which, rec);
      GST_INFO_OBJECT(self, "auto-bitrate: %s %s -> %" G_GUINT64_FORMAT " bit/s", which->factory,
                      which->property, now);
    }
    std::lock_guard lock(st->mu);
    st->encoder_bps = now;
    gst_object_unref(enc);
  }
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self), statsStructure(self, st)));
}

static gboolean gst_bondcast_sink_start(GstBaseSink* sink) {
  auto* self = GST_BONDCAST_SINK(sink);
  Settings s;
  {
    std::lock_guard lock(self->settings_mu);
    s = self->settings;
  }
  auto st = std::make_unique<State>();
  st->runtime = std::make_unique<bondcast::srt::Runtime>();
  if (auto ok = bondcast::srt::checkBonding(); !ok) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("%s", ok.error().message.c_str()), (nullptr));
    return FALSE;
  }
  bondcast::sender::SendOptions o;
  o.mode = sendMode(s.mode);
  o.links = bondcast::splitCommaList(s.links);
  o.srt.latency = std::chrono::milliseconds(s.latency_ms);
  o.srt.passphrase = s.passphrase;
  o.srt.stream_id = s.stream_id;
  o.policy = s.policy;
  o.redundancy_budget = s.redundancy_budget;
  State* raw = st.get();
  o.on_stats = [self, raw](const nlohmann::json& j) { onStats(self, raw, j); };
  if (o.links.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("No links: set links=srt://HOST:PORT[,...]"),
                      (nullptr));
    return FALSE;
  }
  auto session = bondcast::sender::SendSession::create(std::move(o));
  if (!session) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", session.error().message.c_str()), (nullptr));
    return FALSE;
  }
  st->session = std::move(*session);
  st->queue = std::make_shared<ByteQueue>(kQueueBytes, ByteQueue::WhenFull::kBlock);
  st->input = std::make_unique<bondcast::gst::QueueInput>(st->queue);
  st->thread = std::thread([self, raw] {
    auto result = raw->session->run(*raw->input);
    std::unique_lock lock(raw->mu);
    raw->done = true;
    bool report = !result && !raw->stopping;
    lock.unlock();
    raw->queue->close();  // render() returns an error from now on
    raw->cv.notify_all();
    if (report) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("%s", result.error().message.c_str()),
                        (nullptr));
    }
  });
  std::lock_guard lock(self->state_mu);
  self->state = st.release();
  return TRUE;
}

static gboolean gst_bondcast_sink_stop(GstBaseSink* sink) {
  auto* self = GST_BONDCAST_SINK(sink);
  std::unique_ptr<State> st;  // start() made it; it goes here
  {
    std::lock_guard lock(self->state_mu);
    st.reset(std::exchange(self->state, nullptr));
  }
  if (!st)
    return TRUE;
  {
    std::lock_guard lock(st->mu);
    st->stopping = true;
  }
  if (st->session)
    st->session->stop();
  if (st->queue)
    st->queue->close();
  if (st->thread.joinable())
    st->thread.join();
  st->session.reset();
  return TRUE;
}

static GstFlowReturn gst_bondcast_sink_render(GstBaseSink* sink, GstBuffer* buffer) {
  auto* self = GST_BONDCAST_SINK(sink);
  State* st = self->state;  // set between start() and stop(), which render() is inside
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return GST_FLOW_ERROR;
  auto r = st->queue->push({map.data, map.data + map.size});
  gst_buffer_unmap(buffer, &map);
  switch (r) {
    case ByteQueue::Push::kOk:
      return GST_FLOW_OK;
    case ByteQueue::Push::kFlushing:
      return GST_FLOW_FLUSHING;
    case ByteQueue::Push::kClosed:
      break;
  }
  // The session ended: its error was posted by the session thread.
  return GST_FLOW_ERROR;
}

static gboolean gst_bondcast_sink_unlock(GstBaseSink* sink) {
  auto* self = GST_BONDCAST_SINK(sink);
  if (State* st = self->state) {
    {
      std::lock_guard lock(st->mu);
      st->flushing = true;
    }
    st->queue->setFlushing(true);
    st->cv.notify_all();
  }
  return TRUE;
}

static gboolean gst_bondcast_sink_unlock_stop(GstBaseSink* sink) {
  auto* self = GST_BONDCAST_SINK(sink);
  if (State* st = self->state) {
    {
      std::lock_guard lock(st->mu);
      st->flushing = false;
    }
    st->queue->setFlushing(false);
  }
  return TRUE;
}

// At EOS the session sends what is queued and drains its links before the EOS goes on
// (and the application, seeing it, sets the pipeline to NULL).
static gboolean gst_bondcast_sink_event(GstBaseSink* sink, GstEvent* event) {
  auto* self = GST_BONDCAST_SINK(sink);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    if (State* st = self->state) {
      st->queue->finish();
      std::unique_lock lock(st->mu);
      st->cv.wait(lock, [&] { return st->done || st->flushing; });
    }
  }
  return GST_BASE_SINK_CLASS(gst_bondcast_sink_parent_class)->event(sink, event);
}

static void gst_bondcast_sink_set_property(GObject* object, guint prop_id, const GValue* value,
                                           GParamSpec* pspec) {
  auto* self = GST_BONDCAST_SINK(object);
  std::lock_guard lock(self->settings_mu);
  Settings& s = self->settings;
  auto str = [&] {
    return std::string(g_value_get_string(value) ? g_value_get_string(value) : "");
  };
  switch (prop_id) {
    case PROP_MODE:
      s.mode = g_value_get_enum(value);
      break;
    case PROP_LINKS:
      s.links = str();
      break;
    case PROP_LATENCY:
      s.latency_ms = g_value_get_uint(value);
      break;
    case PROP_PASSPHRASE:
      s.passphrase = str();
      break;
    case PROP_STREAM_ID:
      s.stream_id = str();
      break;
    case PROP_POLICY:
      s.policy = str();
      break;
    case PROP_REDUNDANCY_BUDGET:
      s.redundancy_budget = g_value_get_double(value);
      break;
    case PROP_AUTO_BITRATE:
      s.auto_bitrate = g_value_get_boolean(value);
      break;
    case PROP_MIN_BITRATE:
      s.min_bitrate_kbps = g_value_get_uint(value);
      break;
    case PROP_MAX_BITRATE:
      s.max_bitrate_kbps = g_value_get_uint(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_bondcast_sink_get_property(GObject* object, guint prop_id, GValue* value,
                                           GParamSpec* pspec) {
  auto* self = GST_BONDCAST_SINK(object);
  if (prop_id == PROP_STATS) {
    std::lock_guard lock(self->state_mu);
    g_value_take_boxed(value, statsStructure(self, self->state));
    return;
  }
  std::lock_guard lock(self->settings_mu);
  const Settings& s = self->settings;
  switch (prop_id) {
    case PROP_MODE:
      g_value_set_enum(value, s.mode);
      break;
    case PROP_LINKS:
      g_value_set_string(value, s.links.c_str());
      break;
    case PROP_LATENCY:
      g_value_set_uint(value, s.latency_ms);
      break;
    case PROP_PASSPHRASE:
      g_value_set_string(value, s.passphrase.c_str());
      break;
    case PROP_STREAM_ID:
      g_value_set_string(value, s.stream_id.c_str());
      break;
    case PROP_POLICY:
      g_value_set_string(value, s.policy.c_str());
      break;
    case PROP_REDUNDANCY_BUDGET:
      g_value_set_double(value, s.redundancy_budget);
      break;
    case PROP_AUTO_BITRATE:
      g_value_set_boolean(value, s.auto_bitrate);
      break;
    case PROP_MIN_BITRATE:
      g_value_set_uint(value, s.min_bitrate_kbps);
      break;
    case PROP_MAX_BITRATE:
      g_value_set_uint(value, s.max_bitrate_kbps);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_bondcast_sink_finalize(GObject* object) {
  auto* self = GST_BONDCAST_SINK(object);
  bondcast::gst::destroyMembers(self);
  G_OBJECT_CLASS(gst_bondcast_sink_parent_class)->finalize(object);
}

static void gst_bondcast_sink_init(GstBondcastSink* self) {
  bondcast::gst::constructMembers(self);
}

static void gst_bondcast_sink_class_init(GstBondcastSinkClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* basesink_class = GST_BASE_SINK_CLASS(klass);
  GST_DEBUG_CATEGORY_INIT(bondcastsink_debug, "bondcastsink", 0, "bondcast bonded SRT sink");

  gobject_class->set_property = gst_bondcast_sink_set_property;
  gobject_class->get_property = gst_bondcast_sink_get_property;
  gobject_class->finalize = gst_bondcast_sink_finalize;
  const Settings d;
  auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                     GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_MODE,
      g_param_spec_enum("mode", "Mode",
                        "How the links share the stream: broadcast (every packet on every "
                        "link), backup (one active link, the others standing by) or adaptive "
                        "(packets split over the links by expected arrival: their summed "
                        "capacity)",
                        bondcast_mode_get_type(), d.mode, rw));
  g_object_class_install_property(
      gobject_class, PROP_LINKS,
      g_param_spec_string("links", "Links",
                          "Link URIs separated by commas: "
                          "srt://HOST:PORT[?weight=N&bind=ADDR[:PORT]&cost=C],...",
                          "", rw));
  g_object_class_install_property(
      gobject_class, PROP_LATENCY,
      g_param_spec_uint("latency", "Latency", "SRT latency in milliseconds", 0, 60000, d.latency_ms,
                        rw));
  g_object_class_install_property(
      gobject_class, PROP_PASSPHRASE,
      g_param_spec_string("passphrase", "Passphrase",
                          "SRT encryption passphrase (10 to 79 characters; empty: none)", "", rw));
  g_object_class_install_property(
      gobject_class, PROP_STREAM_ID,
      g_param_spec_string("stream-id", "Stream ID",
                          "SRT stream id (the receiver names its output after it)", "", rw));
  g_object_class_install_property(
      gobject_class, PROP_POLICY,
      g_param_spec_string("policy", "Policy",
                          "Scheduling policy of adaptive mode: latency-aware, min-rtt, srtla, "
                          "round-robin, broadcast or backup (broadcast and backup modes ignore it)",
                          d.policy.c_str(), rw));
  g_object_class_install_property(
      gobject_class, PROP_REDUNDANCY_BUDGET,
      g_param_spec_double("redundancy-budget", "Redundancy budget",
                          "Adaptive mode: extra copies of important or at-risk packets, as a "
                          "fraction of the payload bytes (broadcast and backup ignore it)",
                          0.0, 1.0, d.redundancy_budget, rw));
  g_object_class_install_property(
      gobject_class, PROP_AUTO_BITRATE,
      g_param_spec_boolean(
          "auto-bitrate", "Auto bitrate",
          "Set the upstream encoder's bitrate (x264enc, x265enc, openh264enc, vp8enc, vp9enc, "
          "svtav1enc, vaapi/nv/qsv h264/h265) to the recommended bitrate, clamped to "
          "min-bitrate..max-bitrate. Broadcast and backup recommend by AIMD: x0.6 a second while "
          "a link's send buffer passes latency/2 or it drops packets, otherwise +max(1/8, "
          "250 kbit/s); adaptive mode recommends 80% of the capacity its links are measured "
          "to deliver, less the redundancy budget",
          d.auto_bitrate,
          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                   GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_MIN_BITRATE,
      g_param_spec_uint("min-bitrate", "Minimum bitrate", "auto-bitrate floor, kbit/s", 1,
                        G_MAXUINT / 1000, d.min_bitrate_kbps,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_MAX_BITRATE,
      g_param_spec_uint("max-bitrate", "Maximum bitrate", "auto-bitrate ceiling, kbit/s", 1,
                        G_MAXUINT / 1000, d.max_bitrate_kbps,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "Sender statistics (also posted as an element message once a second): "
                         "mode, input-bytes, payloads-sent, payloads-dropped, reconnects, "
                         "active-link (backup), recommended-bitrate, encoder-bitrate (bit/s) and "
                         "links, an array of link structures (link, state, rtt-ms, send-mbps, "
                         "bandwidth-mbps, pkts-sent, pkts-lost-send, pkts-retransmitted, ...)",
                         GST_TYPE_STRUCTURE,
                         static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(element_class, "Bonded SRT sink", "Sink/Network",
                                        "Sends MPEG-TS over several SRT links at once (bondcast)",
                                        "bondcast");

  basesink_class->start = GST_DEBUG_FUNCPTR(gst_bondcast_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR(gst_bondcast_sink_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR(gst_bondcast_sink_render);
  basesink_class->unlock = GST_DEBUG_FUNCPTR(gst_bondcast_sink_unlock);
  basesink_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_bondcast_sink_unlock_stop);
  basesink_class->event = GST_DEBUG_FUNCPTR(gst_bondcast_sink_event);
  gst_type_mark_as_plugin_api(bondcast_mode_get_type(), static_cast<GstPluginAPIFlags>(0));
}
