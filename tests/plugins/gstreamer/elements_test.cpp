// SPDX-License-Identifier: MPL-2.0
// GstHarness tests of bondcastsink and bondcastsrc: properties, caps, stats, errors,
// and stopping or flushing while no link is up. The engines on the other side run in
// this process (their own libsrt copy; the plugin's is hidden inside it).
#include <gst/check/gstharness.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>

#include "common/srt/srt.h"
#include "receiver/receiver.h"
#include "sender/send_session.h"
#include "tests/plugins/gstreamer/gst_test_env.h"

namespace bondcast::gst::test {
namespace {

// A UDP port nothing listens on (bound, then released).
std::uint16_t deadPort() {
  srt::Runtime rt;
  srt::Socket s(srt_create_socket());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  srt_bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  sockaddr_in b{};
  int len = sizeof b;
  srt_getsockname(s.get(), reinterpret_cast<sockaddr*>(&b), &len);
  return ntohs(b.sin_port);
}

GstBuffer* bufferOf(const std::vector<std::uint8_t>& bytes, std::size_t from, std::size_t n) {
  GstBuffer* b = gst_buffer_new_allocate(nullptr, n, nullptr);
  gst_buffer_fill(b, 0, bytes.data() + from, n);
  return b;
}

GstMessage* waitForMessage(GstBus* bus, GstMessageType type, const char* structure_name,
                           std::chrono::seconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    GstMessage* m = gst_bus_timed_pop_filtered(bus, 100 * GST_MSECOND, type);
    if (!m)
      continue;
    const GstStructure* s = gst_message_get_structure(m);
    if (!structure_name || (s && gst_structure_has_name(s, structure_name)))
      return m;
    gst_message_unref(m);
  }
  return nullptr;
}

std::string errorText(GstMessage* m) {
  GError* err = nullptr;
  gchar* dbg = nullptr;
  gst_message_parse_error(m, &err, &dbg);
  std::string text = err ? err->message : "";
  g_clear_error(&err);
  g_free(dbg);
  return text;
}

// The first link structure of a stats structure's "links" array.
const GstStructure* firstLink(const GstStructure* stats) {
  const GValue* links = gst_structure_get_value(stats, "links");
  if (!links || !GST_VALUE_HOLDS_ARRAY(links) || gst_value_array_get_size(links) == 0)
    return nullptr;
  return gst_value_get_structure(gst_value_array_get_value(links, 0));
}

// A harness around an element configured before it starts (harnesses play at once).
GstHarness* harnessFor(const char* factory, const char* prop, const std::string& value,
                       GstBus* bus = nullptr) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  g_object_set(e, prop, value.c_str(), nullptr);
  if (bus)
    gst_element_set_bus(e, bus);
  bool is_sink = g_str_equal(factory, "bondcastsink");
  GstHarness* h =
      gst_harness_new_with_element(e, is_sink ? "sink" : nullptr, is_sink ? nullptr : "src");
  gst_object_unref(e);
  if (!is_sink)  // a harness plays only elements with a sink pad; a live source says NO_PREROLL
    gst_element_set_state(h->element, GST_STATE_PLAYING);
  return h;
}

class MemoryInput : public sender::Input {
 public:
  explicit MemoryInput(std::vector<std::uint8_t> b) : bytes_(std::move(b)) {}
  Result<sender::InputChunk> read() override {
    sender::InputChunk c;
    if (pos_ >= bytes_.size() || stopped_) {
      c.end = true;
      return c;
    }
    std::size_t n = std::min<std::size_t>(1316 * 10, bytes_.size() - pos_);
    c.bytes.assign(bytes_.begin() + pos_, bytes_.begin() + pos_ + n);
    pos_ += n;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // pacing, about 100 Mbit/s
    return c;
  }
  void stop() override { stopped_ = true; }
  std::string describe() const override { return "memory"; }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  std::atomic<bool> stopped_{false};
};

class GstElements : public ::testing::Test {
 protected:
  void SetUp() override { initGst(); }
  srt::Runtime runtime_;
};

// GStreamer 1.22 knows "MPL-2.0" (an unknown license only logs a warning at load time,
// so the value itself is what to check).
TEST_F(GstElements, PluginDeclaresTheMpl2License) {
  GstPlugin* plugin = gst_registry_find_plugin(gst_registry_get(), "bondcast");
  ASSERT_NE(plugin, nullptr) << "plugin not found in " BONDCAST_GST_PLUGIN_DIR;
  EXPECT_STREQ(gst_plugin_get_license(plugin), "MPL-2.0");
  gst_object_unref(plugin);
}

TEST_F(GstElements, SinkPropertiesRoundTrip) {
  GstElement* e = gst_element_factory_make("bondcastsink", nullptr);
  ASSERT_NE(e, nullptr) << "plugin not found in " BONDCAST_GST_PLUGIN_DIR;
  g_object_set(e, "links", "srt://127.0.0.1:9000,srt://127.0.0.1:9001", "latency", 350u,
               "passphrase", "0123456789abc", "stream-id", "cam1", "policy", "min-rtt",
               "redundancy-budget", 0.1, "auto-bitrate", TRUE, "min-bitrate", 800u, "max-bitrate",
               6000u, nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "mode", "backup");
  gchar *links, *pass, *sid, *policy;
  guint latency, minb, maxb;
  gdouble budget;
  gboolean autob;
  gint mode;
  g_object_get(e, "links", &links, "latency", &latency, "passphrase", &pass, "stream-id", &sid,
               "policy", &policy, "redundancy-budget", &budget, "auto-bitrate", &autob,
               "min-bitrate", &minb, "max-bitrate", &maxb, "mode", &mode, nullptr);
  EXPECT_STREQ(links, "srt://127.0.0.1:9000,srt://127.0.0.1:9001");
  EXPECT_EQ(latency, 350u);
  EXPECT_STREQ(pass, "0123456789abc");
  EXPECT_STREQ(sid, "cam1");
  EXPECT_STREQ(policy, "min-rtt");
  EXPECT_DOUBLE_EQ(budget, 0.1);
  EXPECT_TRUE(autob);
  EXPECT_EQ(minb, 800u);
  EXPECT_EQ(maxb, 6000u);
  EXPECT_EQ(mode, 1);  // backup
  g_free(links);
  g_free(pass);
  g_free(sid);
  g_free(policy);
  gst_object_unref(e);
}

TEST_F(GstElements, SrcPropertiesRoundTrip) {
  GstElement* e = gst_element_factory_make("bondcastsrc", nullptr);
  ASSERT_NE(e, nullptr);
  g_object_set(e, "uri", "srt://:9000,srt://:9001", "latency", 500u, "passphrase", "0123456789abc",
               nullptr);
  gchar *uri, *pass;
  guint latency;
  g_object_get(e, "uri", &uri, "latency", &latency, "passphrase", &pass, nullptr);
  EXPECT_STREQ(uri, "srt://:9000,srt://:9001");
  EXPECT_EQ(latency, 500u);
  EXPECT_STREQ(pass, "0123456789abc");
  // The reorder window went with the playout clock: the element no longer has it.
  EXPECT_EQ(g_object_class_find_property(G_OBJECT_GET_CLASS(e), "reorder-window"), nullptr);
  g_free(uri);
  g_free(pass);
  gst_object_unref(e);
}

TEST_F(GstElements, BothElementsTakeAndGiveSystemStreamMpegTs) {
  GstCaps* ts = gst_caps_from_string("video/mpegts, systemstream=(boolean)true");
  GstCaps* raw = gst_caps_from_string("video/x-raw");
  for (const char* name : {"bondcastsink", "bondcastsrc"}) {
    GstElement* e = gst_element_factory_make(name, nullptr);
    ASSERT_NE(e, nullptr);
    GstPad* pad = gst_element_get_static_pad(e, g_str_equal(name, "bondcastsink") ? "sink" : "src");
    GstCaps* caps = gst_pad_query_caps(pad, nullptr);
    EXPECT_TRUE(gst_caps_is_equal(caps, ts)) << name << ": " << gst_caps_to_string(caps);
    EXPECT_FALSE(gst_caps_can_intersect(caps, raw)) << name;
    gst_caps_unref(caps);
    gst_object_unref(pad);
    gst_object_unref(e);
  }
  gst_caps_unref(ts);
  gst_caps_unref(raw);
}

TEST_F(GstElements, StatsHaveTheirFieldsBeforeStart) {
  GstElement* sink = gst_element_factory_make("bondcastsink", nullptr);
  GstStructure* s = nullptr;
  g_object_get(sink, "stats", &s, nullptr);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(gst_structure_has_name(s, "bondcastsink-stats"));
  for (const char* f :
       {"mode", "payloads-sent", "payloads-dropped", "reconnects", "recommended-bitrate", "links"})
    EXPECT_TRUE(gst_structure_has_field(s, f)) << f;
  gst_structure_free(s);
  gst_object_unref(sink);
  GstElement* src = gst_element_factory_make("bondcastsrc", nullptr);
  g_object_get(src, "stats", &s, nullptr);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(gst_structure_has_name(s, "bondcastsrc-stats"));
  for (const char* f : {"payloads", "bytes", "links", "ports"})
    EXPECT_TRUE(gst_structure_has_field(s, f)) << f;
  gst_structure_free(s);
  gst_object_unref(src);
}

TEST_F(GstElements, SinkDeliversBytesToAReceiverAndPostsPerLinkStats) {
  auto dir = std::filesystem::temp_directory_path() / ("bondcast-gst-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  receiver::ReceiverOptions ro;
  ro.listen = {"srt://127.0.0.1:0", "srt://127.0.0.1:0"};
  ro.output = (dir / "sink.ts").string();
  auto rx = receiver::Receiver::create(ro);
  ASSERT_TRUE(rx) << rx.error().message;
  auto ports = (*rx)->ports();
  std::thread rx_thread([&] { (void)(*rx)->run(); });
  auto stop_rx = [&] {
    if (rx_thread.joinable()) {
      (*rx)->stop();
      rx_thread.join();
    }
  };
  struct OnExit {  // a failed ASSERT must not leave a joinable thread behind (std::terminate)
    std::function<void()> f;
    ~OnExit() { f(); }
  } on_exit{stop_rx};

  GstBus* bus = gst_bus_new();
  std::string links = "srt://127.0.0.1:" + std::to_string(ports[0]) +
                      ",srt://127.0.0.1:" + std::to_string(ports[1]);
  GstHarness* h = harnessFor("bondcastsink", "links", links, bus);
  gst_harness_set_src_caps_str(h, "video/mpegts,systemstream=true");
  auto bytes = tsPackets(7 * 600);  // 600 payloads
  for (std::size_t i = 0; i < bytes.size(); i += 188 * 7 * 10)
    ASSERT_EQ(
        gst_harness_push(h, bufferOf(bytes, i, std::min<std::size_t>(188 * 70, bytes.size() - i))),
        GST_FLOW_OK);

  // A group member reads "idle" until it has carried data (libsrt's SRT_GST_IDLE): the second
  // link may connect after the 600 payloads went out on the first. Wait for a message where a
  // link that carried them is "up" and the other is connected ("up" or "idle").
  GstMessage* m = nullptr;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  std::string last = "none";
  while (!m && Clock::now() < deadline) {
    m = waitForMessage(bus, GST_MESSAGE_ELEMENT, "bondcastsink-stats", std::chrono::seconds(1));
    if (!m)
      continue;
    const GstStructure* s = gst_message_get_structure(m);
    const GValue* arr = gst_structure_get_value(s, "links");
    bool connected = arr && GST_VALUE_HOLDS_ARRAY(arr) && gst_value_array_get_size(arr) > 0;
    bool any_up = false;
    for (guint i = 0; connected && i < gst_value_array_get_size(arr); ++i) {
      const char* state = gst_structure_get_string(
          gst_value_get_structure(gst_value_array_get_value(arr, i)), "state");
      std::string_view st = state ? state : "";
      any_up = any_up || st == "up";
      connected = st == "up" || st == "idle";
    }
    if (!connected || !any_up) {
      gchar* text = gst_structure_to_string(s);
      last = text;
      g_free(text);
      gst_message_unref(m);
      m = nullptr;
    }
  }
  ASSERT_NE(m, nullptr)
      << "no stats message with both links connected and one up within 10 s; last: " << last;
  const GstStructure* s = gst_message_get_structure(m);
  const GstStructure* link = firstLink(s);
  ASSERT_NE(link, nullptr) << gst_structure_to_string(s);
  for (const char* f : {"link", "state", "rtt-ms", "send-mbps", "bandwidth-mbps", "pkts-sent",
                        "pkts-lost-send", "pkts-retransmitted"})
    EXPECT_TRUE(gst_structure_has_field(link, f)) << f;
  EXPECT_EQ(gst_value_array_get_size(gst_structure_get_value(s, "links")), 2u);
  gst_message_unref(m);

  auto t0 = Clock::now();
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));  // returns once drained
  EXPECT_LT(secondsSince(t0), 5.0);
  GstStructure* stats = nullptr;
  g_object_get(h->element, "stats", &stats, nullptr);
  guint64 sent = 0;
  EXPECT_TRUE(gst_structure_get_uint64(stats, "payloads-sent", &sent));
  EXPECT_EQ(sent, 600u);
  gst_structure_free(stats);
  gst_harness_teardown(h);
  gst_object_unref(bus);
  stop_rx();
  rx->reset();

  std::ifstream f(dir / "sink.ts", std::ios::binary);
  std::vector<std::uint8_t> got((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(got.size(), bytes.size());
  EXPECT_TRUE(got == bytes);
  std::filesystem::remove_all(dir);
}

TEST_F(GstElements, SrcOutputsWhatASenderSendsAndPostsPerLinkStats) {
  GstBus* bus = gst_bus_new();
  GstHarness* h = harnessFor("bondcastsrc", "uri", "srt://127.0.0.1:0,srt://127.0.0.1:0", bus);
  GstStructure* st = nullptr;
  g_object_get(h->element, "stats", &st, nullptr);
  const GValue* ports = gst_structure_get_value(st, "ports");
  ASSERT_EQ(gst_value_array_get_size(ports), 2u);
  std::vector<std::string> links;
  for (guint i = 0; i < 2; ++i) {
    links.push_back("srt://127.0.0.1:" +
                    std::to_string(g_value_get_uint64(gst_value_array_get_value(ports, i))));
  }
  gst_structure_free(st);

  auto bytes = tsPackets(7 * 1000);
  sender::SendOptions so;
  so.links = links;
  auto session = sender::SendSession::create(so);
  ASSERT_TRUE(session) << session.error().message;
  MemoryInput input(bytes);
  std::thread tx([&] { EXPECT_TRUE((*session)->run(input)); });

  std::vector<std::uint8_t> got;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (got.size() < bytes.size() && Clock::now() < deadline) {
    if (GstBuffer* b = gst_harness_try_pull(h)) {
      GstMapInfo map;
      gst_buffer_map(b, &map, GST_MAP_READ);
      got.insert(got.end(), map.data, map.data + map.size);
      gst_buffer_unmap(b, &map);
      gst_buffer_unref(b);
    } else {
      g_usleep(5000);
    }
  }
  {
    GstStructure* now = nullptr;
    g_object_get(h->element, "stats", &now, nullptr);
    gchar* text = gst_structure_to_string(now);
    EXPECT_EQ(got.size(), bytes.size()) << text;
    g_free(text);
    gst_structure_free(now);
  }
  EXPECT_TRUE(got == bytes);
  GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
  ASSERT_NE(caps, nullptr);
  GstCaps* ts = gst_caps_from_string("video/mpegts, systemstream=(boolean)true");
  EXPECT_TRUE(gst_caps_is_equal(caps, ts));
  gst_caps_unref(ts);
  gst_caps_unref(caps);

  GstMessage* m =
      waitForMessage(bus, GST_MESSAGE_ELEMENT, "bondcastsrc-stats", std::chrono::seconds(5));
  ASSERT_NE(m, nullptr);
  const GstStructure* link = firstLink(gst_message_get_structure(m));
  ASSERT_NE(link, nullptr) << gst_structure_to_string(gst_message_get_structure(m));
  for (const char* f : {"link", "state", "rtt-ms", "recv-mbps", "pkts-received", "pkts-lost-recv",
                        "pkts-dropped-recv"})
    EXPECT_TRUE(gst_structure_has_field(link, f)) << f;
  gst_message_unref(m);
  tx.join();
  gst_harness_teardown(h);
  gst_object_unref(bus);
}

TEST_F(GstElements, SinkWithNoReachableLinkPostsAClearErrorAndFlowError) {
  GstBus* bus = gst_bus_new();
  GstHarness* h =
      harnessFor("bondcastsink", "links", "srt://127.0.0.1:" + std::to_string(deadPort()), bus);
  gst_harness_set_src_caps_str(h, "video/mpegts,systemstream=true");
  auto bytes = tsPackets(7);
  EXPECT_EQ(gst_harness_push(h, bufferOf(bytes, 0, bytes.size())), GST_FLOW_OK);
  GstMessage* m = waitForMessage(bus, GST_MESSAGE_ERROR, nullptr, std::chrono::seconds(10));
  ASSERT_NE(m, nullptr);
  EXPECT_NE(errorText(m).find("no link could connect"), std::string::npos) << errorText(m);
  gst_message_unref(m);
  EXPECT_EQ(gst_harness_push(h, bufferOf(bytes, 0, bytes.size())), GST_FLOW_ERROR);
  gst_harness_teardown(h);
  gst_object_unref(bus);
}

TEST_F(GstElements, SinkStopsPromptlyWhileItsOnlyLinkIsDead) {
  GstHarness* h =
      harnessFor("bondcastsink", "links", "srt://127.0.0.1:" + std::to_string(deadPort()));
  gst_harness_set_src_caps_str(h, "video/mpegts,systemstream=true");
  // Fill the 1 MiB queue so that render() blocks: the session is busy connecting.
  auto chunk = tsPackets(7 * 50);
  std::atomic<int> pushed{0};
  std::thread pusher([&] {
    while (gst_harness_push(h, bufferOf(chunk, 0, chunk.size())) == GST_FLOW_OK)
      ++pushed;
  });
  while (pushed < 15)
    std::this_thread::yield();
  auto t0 = Clock::now();
  gst_element_set_state(h->element, GST_STATE_NULL);  // unlock, stop
  pusher.join();
  double took = secondsSince(t0);
  std::printf("stop with a dead link took %.3f s\n", took);
  EXPECT_LT(took, 1.0);  // also while the session is still connecting
  gst_harness_teardown(h);
}

TEST_F(GstElements, SinkFlushWakesARenderBlockedOnAFullQueue) {
  GstHarness* h =
      harnessFor("bondcastsink", "links", "srt://127.0.0.1:" + std::to_string(deadPort()));
  gst_harness_set_src_caps_str(h, "video/mpegts,systemstream=true");
  auto chunk = tsPackets(7 * 50);  // 65800 bytes; the queue holds 1 MiB
  std::atomic<int> pushed{0};
  std::atomic<int> last{GST_FLOW_OK};
  std::thread pusher([&] {
    for (int i = 0; i < 100; ++i) {
      GstFlowReturn r = gst_harness_push(h, bufferOf(chunk, 0, chunk.size()));
      if (r != GST_FLOW_OK) {
        last = r;
        return;
      }
      ++pushed;
    }
  });
  while (pushed < 15)
    std::this_thread::yield();
  auto t0 = Clock::now();
  gst_harness_push_event(h, gst_event_new_flush_start());
  pusher.join();
  EXPECT_LT(secondsSince(t0), 1.0);
  EXPECT_EQ(last, GST_FLOW_FLUSHING);
  EXPECT_LT(pushed, 100);
  gst_harness_push_event(h, gst_event_new_flush_stop(TRUE));
  gst_harness_teardown(h);
}

TEST_F(GstElements, SrcStopsPromptlyWithNoSender) {
  GstHarness* h = harnessFor("bondcastsrc", "uri", "srt://127.0.0.1:0");
  EXPECT_EQ(gst_harness_try_pull(h), nullptr);
  auto t0 = Clock::now();
  gst_harness_teardown(h);
  EXPECT_LT(secondsSince(t0), 1.0);
}

TEST_F(GstElements, AdaptiveModeWithAnUnknownPolicyFailsToStartNamingTheKnownOnes) {
  GstElement* e = gst_element_factory_make("bondcastsink", nullptr);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  gst_util_set_object_arg(G_OBJECT(e), "mode", "adaptive");
  g_object_set(e, "links", "srt://127.0.0.1:9", "policy", "fastest", nullptr);
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage* m = waitForMessage(bus, GST_MESSAGE_ERROR, nullptr, std::chrono::seconds(1));
  ASSERT_NE(m, nullptr);
  EXPECT_NE(errorText(m).find("unknown policy 'fastest'"), std::string::npos) << errorText(m);
  EXPECT_NE(errorText(m).find("latency-aware"), std::string::npos) << errorText(m);
  gst_message_unref(m);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_object_unref(e);
  gst_object_unref(bus);
}

}  // namespace
}  // namespace bondcast::gst::test
