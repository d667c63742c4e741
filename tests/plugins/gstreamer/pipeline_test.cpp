// SPDX-License-Identifier: MPL-2.0
// Real gst-launch-1.0 processes with the built plugin (GST_PLUGIN_PATH): x264 video
// over bondcastsink into bondcastsrc, every frame decoded, also with a link cut by the
// emulator (in this process); and interop with `bondcast send` / `bondcast recv`,
// byte-identical. 250 frames at 25 fps (10 s) per run instead of 600 to keep CI short.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "eval/emulator/emulator.h"

extern char** environ;

namespace bondcast::gst::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr int kFrames = 250;
constexpr std::size_t kFrameBytes = 320 * 240 * 3 / 2;  // I420
const char* kRawCaps = "video/x-raw,format=I420,width=320,height=240,framerate=25/1";

struct Process {
  pid_t pid = -1;
};

// Runs `command` through sh with GST_PLUGIN_PATH set; output to `log`.
Process spawn(const std::string& command, const fs::path& log) {
  std::string full = "GST_PLUGIN_PATH=" BONDCAST_GST_PLUGIN_DIR " exec " + command;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const char* argv[] = {"/bin/sh", "-c", full.c_str(), nullptr};
  Process p;
  EXPECT_EQ(posix_spawn(&p.pid, "/bin/sh", &actions, nullptr, const_cast<char**>(argv), environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  return p;
}

// The exit status, or nullopt (and the process killed) after `limit`.
std::optional<int> waitFor(Process& p, std::chrono::seconds limit) {
  auto deadline = Clock::now() + limit;
  int status = 0;
  while (Clock::now() < deadline) {
    if (waitpid(p.pid, &status, WNOHANG) == p.pid) {
      p.pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(p.pid, SIGKILL);
  waitpid(p.pid, &status, 0);
  p.pid = -1;
  return std::nullopt;
}

// gst-launch -e turns SIGINT into EOS, so the receiving pipeline flushes its file.
std::optional<int> interruptAndWait(Process& p) {
  kill(p.pid, SIGINT);
  return waitFor(p, std::chrono::seconds(10));
}

std::uint16_t freeUdpPort() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// True once something has bound the UDP port (the receiver listens).
bool waitUntilBound(std::uint16_t port, std::chrono::seconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool busy = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
    close(fd);
    if (busy)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string readText(const fs::path& p) {
  std::ifstream f(p);
  return {std::istreambuf_iterator<char>(f), {}};
}

class GstPipelines : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bondcast-gst-pipe-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure())
      fs::remove_all(dir_);
  }

  // Starts a receiving pipeline on both ports that decodes to raw frames in a file.
  Process startDecodingReceiver(std::uint16_t p1, std::uint16_t p2) {
    std::ostringstream cmd;
    cmd << "gst-launch-1.0 -e bondcastsrc uri=srt://127.0.0.1:" << p1 << ",srt://127.0.0.1:" << p2
        << " ! tsdemux ! h264parse ! avdec_h264 ! videoconvert ! video/x-raw,format=I420"
        << " ! filesink location=" << (dir_ / "frames.yuv");
    return spawn(cmd.str(), dir_ / "rx.log");
  }
  Process startEncodingSender(const std::string& links, const std::string& sink_props = "") {
    std::ostringstream cmd;
    cmd << "gst-launch-1.0 -e videotestsrc is-live=true num-buffers=" << kFrames << " ! "
        << kRawCaps << " ! x264enc tune=zerolatency ! mpegtsmux ! bondcastsink links=" << links
        << " " << sink_props;
    return spawn(cmd.str(), dir_ / "tx.log");
  }
  // An encoding bondcastsink (`sink_props`) and a decoding bondcastsrc over two emulated
  // 20 mbit links with these one-way delays; link 0 is cut at 4 s of the 10 s. Returns
  // the emulator's stats once both pipelines have ended.
  emu::EmulatorStats encodeThroughACut(const std::vector<std::string>& delays,
                                       const std::string& sink_props) {
    std::uint16_t p1 = freeUdpPort(), p2 = freeUdpPort();
    Process rx = startDecodingReceiver(p1, p2);
    EXPECT_TRUE(waitUntilBound(p1, std::chrono::seconds(10)) &&
                waitUntilBound(p2, std::chrono::seconds(10)))
        << readText(dir_ / "rx.log");
    net::NetworkConfig config;
    const std::uint16_t ports[] = {p1, p2};
    for (std::size_t i = 0; i < 2; ++i) {
      auto link = net::parseLinkSpec("listen=127.0.0.1:0,to=127.0.0.1:" + std::to_string(ports[i]) +
                                     ",rate=20mbit,delay=" + delays[i]);
      EXPECT_TRUE(link) << link.error().message;
      config.links.push_back(*link);
    }
    config.events.push_back(net::parseEvent("at=4s,link=0,down").value());
    emu::Emulator emulator(config);
    EXPECT_TRUE(emulator.start());
    Process tx =
        startEncodingSender("srt://127.0.0.1:" + std::to_string(emulator.listenPort(0)) +
                                ",srt://127.0.0.1:" + std::to_string(emulator.listenPort(1)),
                            sink_props);
    EXPECT_EQ(waitFor(tx, std::chrono::seconds(60)), 0) << readText(dir_ / "tx.log");
    emulator.stop();
    EXPECT_EQ(interruptAndWait(rx), 0) << readText(dir_ / "rx.log");
    return emulator.stats();
  }
  std::size_t framesDecoded() {
    return fs::exists(dir_ / "frames.yuv") ? fs::file_size(dir_ / "frames.yuv") / kFrameBytes : 0;
  }
  // A short H.264 MPEG-TS file made with GStreamer.
  fs::path makeTsFile() {
    fs::path ts = dir_ / "in.ts";
    std::ostringstream cmd;
    cmd << "gst-launch-1.0 -q videotestsrc num-buffers=100 ! " << kRawCaps
        << " ! x264enc tune=zerolatency ! mpegtsmux ! filesink location=" << ts;
    Process p = spawn(cmd.str(), dir_ / "make.log");
    EXPECT_EQ(waitFor(p, std::chrono::seconds(60)), 0) << readText(dir_ / "make.log");
    return ts;
  }

  fs::path dir_;
};

TEST_F(GstPipelines, BroadcastOverTwoLinksDecodesEveryFrame) {
  std::uint16_t p1 = freeUdpPort(), p2 = freeUdpPort();
  Process rx = startDecodingReceiver(p1, p2);
  ASSERT_TRUE(waitUntilBound(p1, std::chrono::seconds(10)) &&
              waitUntilBound(p2, std::chrono::seconds(10)))
      << readText(dir_ / "rx.log");
  auto t0 = Clock::now();
  Process tx = startEncodingSender("srt://127.0.0.1:" + std::to_string(p1) +
                                   ",srt://127.0.0.1:" + std::to_string(p2));
  EXPECT_EQ(waitFor(tx, std::chrono::seconds(60)), 0) << readText(dir_ / "tx.log");
  std::printf("sender ran %.1f s\n", std::chrono::duration<double>(Clock::now() - t0).count());
  EXPECT_EQ(interruptAndWait(rx), 0) << readText(dir_ / "rx.log");
  EXPECT_EQ(framesDecoded(), static_cast<std::size_t>(kFrames)) << readText(dir_ / "rx.log");
}

TEST_F(GstPipelines, BroadcastDecodesEveryFrameWhenALinkIsCutMidStream) {
  auto stats = encodeThroughACut({"10ms", "10ms"}, "");
  if (HasFatalFailure())
    return;
  EXPECT_GT(stats.links[0].fwd.drop_outage, 100u) << "link 0 was not cut while in use";
  EXPECT_GT(stats.links[1].fwd.packets_forwarded, stats.links[0].fwd.packets_forwarded);
  EXPECT_EQ(framesDecoded(), static_cast<std::size_t>(kFrames)) << readText(dir_ / "rx.log");
}

TEST_F(GstPipelines, AdaptiveDecodesEveryFrameWhenTheLinkItPrefersIsCutMidStream) {
  auto stats = encodeThroughACut({"10ms", "25ms"}, "mode=adaptive");
  if (HasFatalFailure())
    return;
  EXPECT_GT(stats.links[0].fwd.drop_outage, 50u) << "link 0 was not cut while in use";
  EXPECT_EQ(framesDecoded(), static_cast<std::size_t>(kFrames)) << readText(dir_ / "rx.log");
}

TEST_F(GstPipelines, BondcastSendIntoBondcastsrcIsByteIdentical) {
  fs::path ts = makeTsFile();
  std::uint16_t p1 = freeUdpPort(), p2 = freeUdpPort();
  std::ostringstream rx_cmd;
  rx_cmd << "gst-launch-1.0 -e bondcastsrc uri=srt://127.0.0.1:" << p1 << ",srt://127.0.0.1:" << p2
         << " ! filesink location=" << (dir_ / "out.ts");
  Process rx = spawn(rx_cmd.str(), dir_ / "rx.log");
  ASSERT_TRUE(waitUntilBound(p1, std::chrono::seconds(10)) &&
              waitUntilBound(p2, std::chrono::seconds(10)));
  std::ostringstream tx_cmd;
  tx_cmd << BONDCAST_BINARY << " send -q --input " << ts << " --link srt://127.0.0.1:" << p1
         << " --link srt://127.0.0.1:" << p2;
  Process tx = spawn(tx_cmd.str(), dir_ / "tx.log");
  EXPECT_EQ(waitFor(tx, std::chrono::seconds(60)), 0) << readText(dir_ / "tx.log");
  EXPECT_EQ(interruptAndWait(rx), 0) << readText(dir_ / "rx.log");
  EXPECT_GT(fs::file_size(ts), 10000u);
  EXPECT_TRUE(readText(ts) == readText(dir_ / "out.ts"))
      << fs::file_size(ts) << " bytes sent, " << fs::file_size(dir_ / "out.ts") << " received";
}

TEST_F(GstPipelines, BondcastsinkIntoBondcastRecvIsByteIdentical) {
  fs::path ts = makeTsFile();
  std::uint16_t p1 = freeUdpPort(), p2 = freeUdpPort();
  std::ostringstream rx_cmd;
  rx_cmd << BONDCAST_BINARY << " recv -q --listen srt://127.0.0.1:" << p1
         << " --listen srt://127.0.0.1:" << p2 << " --output " << (dir_ / "out.ts");
  Process rx = spawn(rx_cmd.str(), dir_ / "rx.log");
  ASSERT_TRUE(waitUntilBound(p1, std::chrono::seconds(10)) &&
              waitUntilBound(p2, std::chrono::seconds(10)));
  // tsparse timestamps the file by its PCR and the sink syncs on them: real-time rate.
  std::ostringstream tx_cmd;
  tx_cmd << "gst-launch-1.0 filesrc location=" << ts
         << " ! tsparse set-timestamps=true ! bondcastsink links=srt://127.0.0.1:" << p1
         << ",srt://127.0.0.1:" << p2;
  Process tx = spawn(tx_cmd.str(), dir_ / "tx.log");
  EXPECT_EQ(waitFor(tx, std::chrono::seconds(60)), 0) << readText(dir_ / "tx.log");
  EXPECT_EQ(interruptAndWait(rx), 0) << readText(dir_ / "rx.log");
  EXPECT_GT(fs::file_size(ts), 10000u);
  EXPECT_TRUE(readText(ts) == readText(dir_ / "out.ts"))
      << fs::file_size(ts) << " bytes sent, " << fs::file_size(dir_ / "out.ts") << " received";
}

TEST_F(GstPipelines, PluginExportsOnlyItsDescriptorAndNoLibsrtSymbols) {
  std::string cmd = "nm -D --defined-only " BONDCAST_GST_PLUGIN_DIR "/libgstbondcast.so";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe))
    out.append(buf, n);
  EXPECT_EQ(::pclose(pipe), 0);
  EXPECT_NE(out.find("gst_plugin_bondcast_get_desc"), std::string::npos) << out;
  EXPECT_EQ(out.find("srt_"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

// GStreamer's srtsink loads Debian's libsrt; ours stays hidden inside the plugin.
TEST_F(GstPipelines, GStreamersSrtsinkAndBondcastsinkRunInOneProcess) {
  std::uint16_t p1 = freeUdpPort(), p2 = freeUdpPort();
  std::ostringstream rx_cmd;
  rx_cmd << BONDCAST_BINARY << " recv -q --listen srt://127.0.0.1:" << p1 << " --output "
         << (dir_ / "out.ts");
  Process rx = spawn(rx_cmd.str(), dir_ / "rx.log");
  ASSERT_TRUE(waitUntilBound(p1, std::chrono::seconds(10)));
  std::ostringstream tx_cmd;
  tx_cmd << "gst-launch-1.0 -e videotestsrc is-live=true num-buffers=50 ! " << kRawCaps
         << " ! x264enc tune=zerolatency ! mpegtsmux ! tee name=t t. ! queue ! srtsink "
         << "'uri=srt://127.0.0.1:" << p2 << "?mode=listener' wait-for-connection=false "
         << "t. ! queue ! bondcastsink links=srt://127.0.0.1:" << p1;
  Process tx = spawn(tx_cmd.str(), dir_ / "tx.log");
  EXPECT_EQ(waitFor(tx, std::chrono::seconds(60)), 0) << readText(dir_ / "tx.log");
  EXPECT_EQ(interruptAndWait(rx), 0) << readText(dir_ / "rx.log");
  EXPECT_GT(fs::exists(dir_ / "out.ts") ? fs::file_size(dir_ / "out.ts") : 0, 10000u);
}

}  // namespace
}  // namespace bondcast::gst::test
