// SPDX-License-Identifier: MPL-2.0
// auto-bitrate against throttled links (issue 6, acceptance 4): an in-process pipeline
// videotestsrc ! x264enc ! mpegtsmux ! bondcastsink auto-bitrate=true sends through the
// link emulator (both links 20 mbit/s, 1 mbit/s from 4 s to 12 s) into an in-process
// receiver; x264enc's bitrate property, sampled every 250 ms, must follow the
// throttle down and come back up once it is lifted. About 23 s.
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "eval/emulator/emulator.h"
#include "receiver/receiver.h"
#include "tests/plugins/gstreamer/gst_test_env.h"

namespace bondcast::gst::test {
namespace {

struct Sample {
  double t;           // seconds since the emulator's model time zero
  guint kbps;         // x264enc bitrate
  std::string links;  // per-link estimate summary, for the failure message
};

double number(const GstStructure* s, const char* field) {
  const GValue* v = gst_structure_get_value(s, field);
  GValue d = G_VALUE_INIT;
  g_value_init(&d, G_TYPE_DOUBLE);
  double out = v && g_value_transform(v, &d) ? g_value_get_double(&d) : 0;
  g_value_unset(&d);
  return out;
}

// "bw=… send=… buf=…ms" for each link of the sink's stats.
std::string linkSummary(GstElement* sink) {
  GstStructure* s = nullptr;
  g_object_get(sink, "stats", &s, nullptr);
  if (!s)
    return "";
  std::string out;
  const GValue* links = gst_structure_get_value(s, "links");
  for (guint i = 0; links && i < gst_value_array_get_size(links); ++i) {
    const GstStructure* l = gst_value_get_structure(gst_value_array_get_value(links, i));
    double bw = number(l, "bandwidth-mbps"), send = number(l, "send-mbps"),
           buf = number(l, "send-buffer-ms"), drops = number(l, "pkts-dropped-send");
    char text[160];
    std::snprintf(text, sizeof text, " [%s bw=%.1f send=%.2f buf=%.0fms drop=%.0f]",
                  gst_structure_get_string(l, "state"), bw, send, buf, drops);
    out += text;
  }
  out += " rec=" + std::to_string(static_cast<long>(number(s, "recommended-bitrate") / 1000));
  gst_structure_free(s);
  return out;
}

TEST(GstAutoBitrate, EncoderBitrateFollowsAThrottleDownAndBackUp) {
  initGst();
  if (!gst_element_factory_find("x264enc") || !gst_element_factory_find("mpegtsmux"))
    GTEST_SKIP() << "x264enc or mpegtsmux not installed";
  auto dir =
      std::filesystem::temp_directory_path() / ("bondcast-autobitrate-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);

  receiver::ReceiverOptions ro;
  ro.listen = {"srt://127.0.0.1:0", "srt://127.0.0.1:0"};
  ro.output = (dir / "out.ts").string();
  auto rx = receiver::Receiver::create(ro);
  ASSERT_TRUE(rx) << rx.error().message;
  auto ports = (*rx)->ports();
  std::thread rx_thread([&] { (void)(*rx)->run(); });

  net::NetworkConfig config;
  for (auto p : ports) {
    auto link = net::parseLinkSpec("listen=127.0.0.1:0,to=127.0.0.1:" + std::to_string(p) +
                                   ",rate=20mbit,delay=10ms");
    ASSERT_TRUE(link) << link.error().message;
    config.links.push_back(*link);
  }
  for (const char* spec : {"at=4s,link=0,rate=1mbit", "at=4s,link=1,rate=1mbit",
                           "at=12s,link=0,rate=20mbit", "at=12s,link=1,rate=20mbit"}) {
    auto ev = net::parseEvent(spec);
    ASSERT_TRUE(ev) << ev.error().message;
    config.events.push_back(*ev);
  }
  emu::Emulator emulator(config);
  ASSERT_TRUE(emulator.start());

  std::string launch =
      "videotestsrc is-live=true pattern=snow ! video/x-raw,width=640,height=360,framerate=25/1"
      " ! x264enc name=enc tune=zerolatency speed-preset=ultrafast bitrate=4000 ! mpegtsmux"
      " ! bondcastsink name=sink mode=broadcast auto-bitrate=true min-bitrate=300"
      " max-bitrate=6000 links=srt://127.0.0.1:" +
      std::to_string(emulator.listenPort(0)) +
      ",srt://127.0.0.1:" + std::to_string(emulator.listenPort(1));
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(launch.c_str(), &err);
  ASSERT_NE(pipeline, nullptr) << (err ? err->message : "");
  GstElement* enc = gst_bin_get_by_name(GST_BIN(pipeline), "enc");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

  // Sampling, not synchronisation: the property's value over model time.
  std::vector<Sample> samples;
  GstBus* bus = gst_element_get_bus(pipeline);
  std::string error;
  auto since = [&] {
    return std::chrono::duration<double>(Clock::now() - emulator.epoch()).count();
  };
  while (since() < 23.0 && error.empty()) {
    if (GstMessage* m = gst_bus_timed_pop_filtered(bus, 250 * GST_MSECOND, GST_MESSAGE_ERROR)) {
      GError* e = nullptr;
      gst_message_parse_error(m, &e, nullptr);
      error = e ? e->message : "error";
      g_clear_error(&e);
      gst_message_unref(m);
    }
    guint kbps = 0;
    g_object_get(enc, "bitrate", &kbps, nullptr);
    samples.push_back({since(), kbps, linkSummary(sink)});
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(enc);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  emulator.stop();
  (*rx)->stop();
  rx_thread.join();
  ASSERT_TRUE(error.empty()) << error;

  std::string trace;
  guint low = G_MAXUINT, high_after = 0;
  for (const auto& s : samples) {
    char line[64];
    std::snprintf(line, sizeof line, "%5.2f s %5u kbit/s", s.t, s.kbps);
    trace += line + s.links + "\n";
    if (s.t > 4 && s.t < 12)
      low = std::min(low, s.kbps);
    if (s.t > 12)
      high_after = std::max(high_after, s.kbps);
  }
  if (std::getenv("BONDCAST_TEST_VERBOSE"))
    std::printf("%s", trace.c_str());
  EXPECT_LT(low, 1000u) << "the bitrate did not follow the 1 mbit/s throttle down\n" << trace;
  EXPECT_GT(high_after, 2000u) << "the bitrate did not come back up after the throttle\n" << trace;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bondcast::gst::test
