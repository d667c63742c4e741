// SPDX-License-Identifier: MPL-2.0
#include "plugins/gstreamer/gstbondcastsrc.h"
#include "common/text.h"

#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "common/srt/srt.h"
#include "plugins/gstreamer/adapters.h"
#include "plugins/gstreamer/element_members.h"
#include "plugins/gstreamer/stats_structure.h"
#include "receiver/receiver.h"

GST_DEBUG_CATEGORY_STATIC(bondcastsrc_debug);
#define GST_CAT_DEFAULT bondcastsrc_debug

namespace {

using bondcast::gst::ByteQueue;

// User settings; each default is defined here once.
struct Settings {
  std::string uri;
  guint latency_ms = 200;
  std::string passphrase;
};

// What exists between start() and stop().
struct State {
  std::unique_ptr<bondcast::srt::Runtime> runtime;
  std::shared_ptr<ByteQueue> queue;
  std::unique_ptr<bondcast::receiver::Receiver> receiver;
  std::vector<std::uint16_t> ports;
  std::thread thread;
  std::mutex mu;  // guards last_stats
  nlohmann::json last_stats;
};

constexpr std::size_t kQueueBytes = 8 << 20;  // about 16 s at 4 Mbit/s
constexpr std::size_t kBufferBytes = 64 * 1024;

}  // namespace

struct _GstBondcastSrc {
  GstPushSrc parent;
  std::mutex settings_mu;
  Settings settings;
  std::mutex state_mu;  // guards `state` (the pointer) against the stats property
  State* state;         // null when stopped
};

enum { PROP_0, PROP_URI, PROP_LATENCY, PROP_PASSPHRASE, PROP_STATS };

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS("video/mpegts, systemstream=(boolean)true"));

G_DEFINE_TYPE(GstBondcastSrc, gst_bondcast_src, GST_TYPE_PUSH_SRC)

// The receiver's record with the current (or last) stream's counters and links on top.
static GstStructure* statsStructure(State* st) {
  nlohmann::json j = {{"payloads", 0u},
                      {"bytes", 0u},
                      {"links", nlohmann::json::array()},
                      {"streams", nlohmann::json::array()},
                      {"ports", nlohmann::json::array()}};
  if (st) {
    std::lock_guard lock(st->mu);
    j["ports"] = st->ports;
    if (st->last_stats.contains("streams") && !st->last_stats["streams"].empty()) {
      const auto& streams = st->last_stats["streams"];
      j["streams"] = streams;
      const auto& cur = streams.front();  // active streams come first
      j["stream"] = cur.value("stream", "");
      j["payloads"] = cur.value("payloads", std::uint64_t{0});
      j["bytes"] = cur.value("bytes", std::uint64_t{0});
      j["links"] = cur.value("links", nlohmann::json::array());
    }
    j["dropped_bytes"] = st->queue->droppedBytes();
  }
  return bondcast::gst::structureFromJson("bondcastsrc-stats", j);
}

static gboolean gst_bondcast_src_start(GstBaseSrc* src) {
  auto* self = GST_BONDCAST_SRC(src);
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
  st->queue = std::make_shared<ByteQueue>(kQueueBytes, ByteQueue::WhenFull::kDropOldest);
  bondcast::receiver::ReceiverOptions o;
  o.listen = bondcast::splitCommaList(s.uri);
  if (o.listen.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("No uri: set uri=srt://:PORT[,srt://:PORT...]"),
                      (nullptr));
    return FALSE;
  }
  o.srt.latency = std::chrono::milliseconds(s.latency_ms);
  o.srt.passphrase = s.passphrase;
  auto queue = st->queue;
  o.output_factory = [queue](const std::string& stream)
      -> bondcast::Result<std::unique_ptr<bondcast::receiver::Output>> {
    return std::unique_ptr<bondcast::receiver::Output>(
        std::make_unique<bondcast::gst::QueueOutput>(queue, stream));
  };
  State* raw = st.get();
  o.on_stats = [self, raw](const nlohmann::json& j) {
    {
      std::lock_guard lock(raw->mu);
      raw->last_stats = j;
    }
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_element(GST_OBJECT(self), statsStructure(raw)));
  };
  auto receiver = bondcast::receiver::Receiver::create(std::move(o));
  if (!receiver) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("%s", receiver.error().message.c_str()),
                      (nullptr));
    return FALSE;
  }
  st->receiver = std::move(*receiver);
  st->ports = st->receiver->ports();
  st->thread = std::thread([self, raw] {
    auto result = raw->receiver->run();
    if (!result) {
      GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s", result.error().message.c_str()), (nullptr));
    }
    raw->queue->finish();
  });
  std::lock_guard lock(self->state_mu);
  self->state = st.release();
  return TRUE;
}

static gboolean gst_bondcast_src_stop(GstBaseSrc* src) {
  auto* self = GST_BONDCAST_SRC(src);
  std::unique_ptr<State> st;  // start() made it; it goes here
  {
    std::lock_guard lock(self->state_mu);
    st.reset(std::exchange(self->state, nullptr));
  }
  if (!st)
    return TRUE;
  st->receiver->stop();
  st->queue->close();
  if (st->thread.joinable())
    st->thread.join();
  st->receiver.reset();
  return TRUE;
}

static GstFlowReturn gst_bondcast_src_create(GstPushSrc* src, GstBuffer** out) {
  auto* self = GST_BONDCAST_SRC(src);
  State* st = self->state;  // set between start() and stop(), which create() is inside
  std::vector<std::uint8_t> bytes;
  switch (st->queue->pop(bytes, kBufferBytes, true)) {
    case ByteQueue::Pop::kFlushing:
      return GST_FLOW_FLUSHING;
    case ByteQueue::Pop::kEnd:
      return GST_FLOW_EOS;
    case ByteQueue::Pop::kData:
      break;
  }
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, bytes.size(), nullptr);
  gst_buffer_fill(buf, 0, bytes.data(), bytes.size());
  *out = buf;
  return GST_FLOW_OK;
}

static gboolean gst_bondcast_src_unlock(GstBaseSrc* src) {
  auto* self = GST_BONDCAST_SRC(src);
  std::lock_guard lock(self->state_mu);
  if (self->state)
    self->state->queue->setFlushing(true);
  return TRUE;
}

static gboolean gst_bondcast_src_unlock_stop(GstBaseSrc* src) {
  auto* self = GST_BONDCAST_SRC(src);
  std::lock_guard lock(self->state_mu);
  if (self->state)
    self->state->queue->setFlushing(false);
  return TRUE;
}

static void gst_bondcast_src_set_property(GObject* object, guint prop_id, const GValue* value,
                                          GParamSpec* pspec) {
  auto* self = GST_BONDCAST_SRC(object);
  std::lock_guard lock(self->settings_mu);
  Settings& s = self->settings;
  auto str = [&] {
    return std::string(g_value_get_string(value) ? g_value_get_string(value) : "");
  };
  switch (prop_id) {
    case PROP_URI:
      s.uri = str();
      break;
    case PROP_LATENCY:
      s.latency_ms = g_value_get_uint(value);
      break;
    case PROP_PASSPHRASE:
      s.passphrase = str();
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_bondcast_src_get_property(GObject* object, guint prop_id, GValue* value,
                                          GParamSpec* pspec) {
  auto* self = GST_BONDCAST_SRC(object);
  if (prop_id == PROP_STATS) {
    std::lock_guard lock(self->state_mu);
    g_value_take_boxed(value, statsStructure(self->state));
    return;
  }
  std::lock_guard lock(self->settings_mu);
  const Settings& s = self->settings;
  switch (prop_id) {
    case PROP_URI:
      g_value_set_string(value, s.uri.c_str());
      break;
    case PROP_LATENCY:
      g_value_set_uint(value, s.latency_ms);
      break;
    case PROP_PASSPHRASE:
      g_value_set_string(value, s.passphrase.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_bondcast_src_finalize(GObject* object) {
  auto* self = GST_BONDCAST_SRC(object);
  bondcast::gst::destroyMembers(self);
  G_OBJECT_CLASS(gst_bondcast_src_parent_class)->finalize(object);
}

static void gst_bondcast_src_init(GstBondcastSrc* self) {
  bondcast::gst::constructMembers(self);
  gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp(GST_BASE_SRC(self), TRUE);
}

static void gst_bondcast_src_class_init(GstBondcastSrcClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* basesrc_class = GST_BASE_SRC_CLASS(klass);
  auto* pushsrc_class = GST_PUSH_SRC_CLASS(klass);
  GST_DEBUG_CATEGORY_INIT(bondcastsrc_debug, "bondcastsrc", 0, "bondcast bonded SRT source");

  gobject_class->set_property = gst_bondcast_src_set_property;
  gobject_class->get_property = gst_bondcast_src_get_property;
  gobject_class->finalize = gst_bondcast_src_finalize;
  const Settings d;
  auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                     GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_URI,
      g_param_spec_string("uri", "URI",
                          "Listen URIs separated by commas, one per link: srt://[ADDR]:PORT,... "
                          "(port 0 picks one; the stats show it)",
                          "", rw));
  g_object_class_install_property(
      gobject_class, PROP_LATENCY,
      g_param_spec_uint("latency", "Latency",
                        "SRT latency in milliseconds; adaptive streams play each packet out "
                        "this long after it could have come over the fastest link",
                        0, 60000, d.latency_ms, rw));
  g_object_class_install_property(
      gobject_class, PROP_PASSPHRASE,
      g_param_spec_string("passphrase", "Passphrase",
                          "SRT encryption passphrase (10 to 79 characters; empty: none)", "", rw));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "Receiver statistics (also posted as an element message once a "
                         "second): stream, payloads, bytes, dropped-bytes, ports, links (an "
                         "array of link structures: link, state, rtt-ms, recv-mbps, "
                         "pkts-received, pkts-lost-recv, pkts-dropped-recv, ...) and streams",
                         GST_TYPE_STRUCTURE,
                         static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Bonded SRT source", "Source/Network",
      "Receives MPEG-TS sent over several SRT links at once (bondcast)", "bondcast");

  basesrc_class->start = GST_DEBUG_FUNCPTR(gst_bondcast_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR(gst_bondcast_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR(gst_bondcast_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_bondcast_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR(gst_bondcast_src_create);
}
