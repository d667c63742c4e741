// SPDX-License-Identifier: MPL-2.0
// Acceptance test 4 of issue 2: malformed SRT handshakes sent to a running `bondcast recv`
// that is serving a real stream. Each case crafts a caller handshake by hand over raw UDP
// (127.0.0.1 only): INDUCTION (HSv4 request) -> read the listener's HSv5 induction response
// and its SYN cookie -> CONCLUSION with a valid HSREQ block plus one oversized block:
//
//   GroupOversized  SRT_CMD_GROUP, 300 words: libsrt 1.5.1 copies it into
//                   `int32_t groupdata[GRPD_E_SIZE]` (2 words) on the stack
//                   (patches/libsrt/0001).
//   KmReqOversized  SRT_CMD_KMREQ, 1380 bytes: copied into a 104-byte KM buffer on the
//                   stack of acceptAndRespond (patches/libsrt/0002).
//   KmRspOversized  SRT_CMD_KMRSP, 1380 bytes: copied into `uint32_t srtd[26]` in
//                   processSrtMsg_KMRSP (patches/libsrt/0002).
//
// With the patches the listener refuses the handshake (a conclusion response whose request
// type is 1000 + the SRT_REJ_* reason), logs why, and the stream that was already flowing
// arrives complete: the sender finishes, the output is byte-identical to the input file and
// the receiver's stats show no lost or dropped packets. Without them, the receiver dies
// (with AddressSanitizer: a stack-buffer-overflow report); tools/verify-srt-patches proves it.
//
// FlowWindow: a good handshake (no passphrase on the receiver) that claims a flow window of
// 2^26 packets; libsrt 1.5.1 allocates the send loss list from it (patches/libsrt/0007).
//
// Wire layouts (libsrt 1.5.1: packet.h, handshake.h, core.cpp createSrtHandshake /
// interpretSrtHandshake / processConnectRequest, crypto.cpp): all control-packet words are
// big-endian 32-bit words.
//   header  [0] 0x80000000 (control bit, type UMSG_HANDSHAKE=0) [1] 0 [2] timestamp
//           [3] destination socket id (0: to the listener)
//   CHandShake (48 bytes) version, type, ISN, MSS, flight flag size, request type,
//           socket id, cookie, peer IP[4]
//   extension block: one word (command << 16 | length in words), then the words.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Generous bounds: the same test runs against an AddressSanitizer build.
constexpr auto kStartTimeout = 30s;
constexpr auto kStreamTimeout = 90s;
constexpr auto kReplyTimeout = 10s;
constexpr int kInputSeconds = 6;

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Polls `done` every 20 ms until it holds or the deadline passes.
bool waitUntil(const std::function<bool()>& done, Clock::duration timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done())
      return true;
    if (Clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
}

// A child process (looked up in PATH) with stdout and stderr appended to one log file.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { kill(SIGKILL); }

  bool start(const std::vector<std::string>& args, const fs::path& log) {
    log_ = log;
    std::vector<char*> argv;
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    int rc = posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
      pid_ = -1;
    return rc == 0;
  }

  // True while the process runs; reaps it (and records its status) once it has exited.
  bool alive() {
    if (pid_ <= 0)
      return false;
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == 0)
      return true;
    status_ = st;
    pid_ = -1;
    return false;
  }

  // The exit status (see describe()), or nullopt if it is still running at the deadline.
  std::optional<int> wait(Clock::duration timeout) {
    if (!waitUntil([&] { return !alive(); }, timeout))
      return std::nullopt;
    return status_;
  }

  void kill(int sig) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
      if (sig == SIGKILL) {
        int st = 0;
        waitpid(pid_, &st, 0);
        status_ = st;
        pid_ = -1;
      }
    }
  }

  std::string log() const { return readFile(log_); }
  pid_t pid() const { return pid_; }

  static std::string describe(int status) {
    if (WIFEXITED(status))
      return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
      return "signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  fs::path log_;
};

// The port a started `bondcast recv` reports it listens on (0 if it ended or said nothing
// within kStartTimeout).
std::uint16_t listeningPort(Child& receiver) {
  std::uint16_t port = 0;
  const std::regex re(R"(listening on \S+ \(port (\d+)\))");
  waitUntil(
      [&] {
        std::smatch m;
        const std::string log = receiver.log();
        if (std::regex_search(log, m, re))
          port = static_cast<std::uint16_t>(std::stoi(m[1]));
        return port != 0 || !receiver.alive();
      },
      kStartTimeout);
  return port;
}

// ---- SRT handshake over raw UDP -------------------------------------------------------

constexpr std::uint32_t kHsVersionUdt4 = 4;
constexpr std::uint32_t kHsVersionSrt1 = 5;
constexpr std::uint32_t kUrqInduction = 1;
constexpr std::uint32_t kUrqConclusion = 0xFFFFFFFF;
constexpr std::uint32_t kUrqFailureTypes = 1000;
constexpr std::uint32_t kSrtMagicCode = 0x4A17;
constexpr std::uint32_t kUdtDgram = 2;  // "type" of an HSv4 induction request
// CHandShake::HS_EXT_*
constexpr std::uint32_t kExtHsReq = 1 << 0;
constexpr std::uint32_t kExtKmReq = 1 << 1;
constexpr std::uint32_t kExtConfig = 1 << 2;
// SRT_CMD_*
constexpr std::uint32_t kCmdHsReq = 1;
constexpr std::uint32_t kCmdKmReq = 3;
constexpr std::uint32_t kCmdKmRsp = 4;
constexpr std::uint32_t kCmdGroup = 8;
// SRT_REJ_*
constexpr std::uint32_t kRejRogue = 4;
constexpr std::uint32_t kRejIpe = 6;
constexpr std::uint32_t kRejUnsecure = 11;
// SRT_OPT_*: TSBPDSND | TSBPDRCV | HAICRYPT | TLPKTDROP | NAKREPORT | REXMITFLG (message API)
constexpr std::uint32_t kSrtOpts = 0x3F;
constexpr std::uint32_t kSrtVersion = 0x010501;

constexpr std::size_t kHeaderWords = 4;
constexpr std::size_t kHsWords = 12;
enum HsField : std::size_t {
  kVersion,
  kType,
  kIsn,
  kMss,
  kFlightSize,
  kReqType,
  kSocketId,
  kCookie,
  kPeerIp
};

class HandshakeClient {
 public:
  HandshakeClient() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
  }
  ~HandshakeClient() { close(fd_); }

  bool send(std::uint16_t port, const std::vector<std::uint32_t>& words) {
    std::vector<std::uint32_t> wire;
    for (auto w : words)
      wire.push_back(htonl(w));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto n =
        sendto(fd_, wire.data(), wire.size() * 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    return n == static_cast<ssize_t>(wire.size() * 4);
  }

  // The next handshake control packet addressed to `socket_id`, as host-order words.
  std::optional<std::vector<std::uint32_t>> receiveHandshake(std::uint32_t socket_id,
                                                             Clock::duration timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0)
        continue;
      std::uint32_t buf[512];
      auto n = recv(fd_, buf, sizeof buf, 0);
      if (n < static_cast<ssize_t>((kHeaderWords + kHsWords) * 4))
        continue;
      std::vector<std::uint32_t> words;
      for (ssize_t i = 0; i < n / 4; ++i)
        words.push_back(ntohl(buf[i]));
      if (words[0] == 0x80000000 && words[3] == socket_id)
        return words;
    }
    return std::nullopt;
  }

 private:
  int fd_ = -1;
};

std::vector<std::uint32_t> handshake(std::uint32_t version, std::uint32_t type,
                                     std::uint32_t req_type, std::uint32_t socket_id,
                                     std::uint32_t cookie) {
  std::vector<std::uint32_t> w = {0x80000000, 0, 1000, 0};  // header, to the listener
  w.resize(kHeaderWords + kHsWords, 0);
  std::uint32_t* hs = w.data() + kHeaderWords;
  hs[kVersion] = version;
  hs[kType] = type;
  hs[kIsn] = 0x123456;
  hs[kMss] = 1500;
  hs[kFlightSize] = 8192;
  hs[kReqType] = req_type;
  hs[kSocketId] = socket_id;
  hs[kCookie] = cookie;
  hs[kPeerIp] = 0x0100007F;  // 127.0.0.1 as in_addr bytes, as libsrt stores it
  return w;
}

void appendBlock(std::vector<std::uint32_t>& w, std::uint32_t cmd,
                 const std::vector<std::uint32_t>& body) {
  w.push_back(cmd << 16 | static_cast<std::uint32_t>(body.size()));
  w.insert(w.end(), body.begin(), body.end());
}

struct Case {
  const char* name;
  std::uint32_t cmd;        // the oversized block
  std::size_t words;        // its length in 32-bit words
  std::uint32_t ext_flags;  // HS_EXT_* besides HSREQ, so that libsrt looks at the block
  std::uint32_t reject;     // expected SRT_REJ_* in the conclusion response
  const char* log_line;     // what the patched libsrt logs (through the receiver's log)
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.name;
}

const Case kCases[] = {
    {"GroupOversized", kCmdGroup, 300, kExtConfig, kRejRogue, "PEER'S GROUP too large: 300"},
    {"KmReqOversized", kCmdKmReq, 345, kExtKmReq, kRejIpe,
     "processSrtMsg_KMREQ: size of the KM (1380) is too large"},
    {"KmRspOversized", kCmdKmRsp, 345, kExtKmReq, kRejUnsecure,
     "processSrtMsg_KMRSP: size of the KM (1380) is too large"},
};

// ---- the fixture: a receiver serving a real stream ------------------------------------

const char* kPassphrase = "handshake-test-secret";

class HandshakeTest : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    suite_dir_ = fs::temp_directory_path() / ("bondcast-hs-" + std::to_string(getpid()));
    fs::create_directories(suite_dir_);
    input_ = suite_dir_ / "input.ts";
    // H.264 + AAC in MPEG-TS, made by the ffmpeg CLI; deterministic test patterns.
    Child ff;
    ASSERT_TRUE(ff.start({"ffmpeg",       "-hide_banner",
                          "-loglevel",    "error",
                          "-nostdin",     "-y",
                          "-f",           "lavfi",
                          "-i",           "testsrc=size=320x240:rate=25",
                          "-f",           "lavfi",
                          "-i",           "sine=frequency=440:sample_rate=48000",
                          "-t",           std::to_string(kInputSeconds),
                          "-c:v",         "libx264",
                          "-preset",      "ultrafast",
                          "-g",           "25",
                          "-b:v",         "800k",
                          "-c:a",         "aac",
                          "-f",           "mpegts",
                          input_.string()},
                         suite_dir_ / "ffmpeg.log"));
    auto st = ff.wait(120s);
    ASSERT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << ff.log();
    ASSERT_GT(fs::file_size(input_), 100000u);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(suite_dir_, ec);
  }

  void SetUp() override {
    ASSERT_TRUE(fs::exists(input_)) << "no input file";
    dir_ = suite_dir_ / GetParam().name;
    fs::create_directories(dir_);
    output_ = dir_ / "output.ts";
    stats_ = dir_ / "recv-stats.jsonl";
  }

  void TearDown() override {
    if (HasFailure()) {
      // tools/verify-srt-patches looks for the AddressSanitizer report here.
      std::cout << "---- receiver log ----\n"
                << receiver_.log() << "---- sender log ----\n"
                << sender_.log() << "----\n";
    }
    sender_.kill(SIGKILL);
    receiver_.kill(SIGKILL);
  }

  // Starts the receiver on an ephemeral port; returns the port from its log line.
  std::uint16_t startReceiver() {
    EXPECT_TRUE(
        receiver_.start({BONDCAST_BINARY, "recv", "--listen", "srt://127.0.0.1:0", "--output",
                         output_.string(), "--passphrase", kPassphrase, "--stats", stats_.string()},
                        dir_ / "recv.log"));
    return listeningPort(receiver_);
  }

  // Receiver stats lines that show the stream with data.
  std::vector<nlohmann::json> statsWithData() {
    std::vector<nlohmann::json> out;
    std::istringstream in(readFile(stats_));
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("streams"))
        continue;
      for (const auto& s : j["streams"]) {
        if (s.value("payloads", 0) > 0)
          out.push_back(s);
      }
    }
    return out;
  }

  static fs::path suite_dir_;
  static fs::path input_;
  fs::path dir_, output_, stats_;
  Child receiver_, sender_;
};

fs::path HandshakeTest::suite_dir_;
fs::path HandshakeTest::input_;

TEST_P(HandshakeTest, RefusedWhileStreamContinues) {
  const Case& c = GetParam();
  std::uint16_t port = startReceiver();
  ASSERT_NE(port, 0) << "the receiver did not report its port";

  ASSERT_TRUE(
      sender_.start({BONDCAST_BINARY, "send", "--input", input_.string(), "--link",
                     "srt://127.0.0.1:" + std::to_string(port), "--passphrase", kPassphrase},
                    dir_ / "send.log"));
  // Mid-stream: the receiver's stats show the stream carrying data.
  ASSERT_TRUE(
      waitUntil([&] { return !statsWithData().empty() || !receiver_.alive(); }, kStartTimeout));
  ASSERT_TRUE(receiver_.alive()) << "the receiver died before the handshake was sent";
  ASSERT_TRUE(sender_.alive()) << "the sender ended before the handshake was sent";

  // 1. INDUCTION request as an HSv5 caller sends it: version 4, type UDT_DGRAM.
  std::mt19937 rng(20240917);
  const std::uint32_t socket_id = (rng() & 0x3FFFFFFF) | 1;
  HandshakeClient client;
  ASSERT_TRUE(client.send(port, handshake(kHsVersionUdt4, kUdtDgram, kUrqInduction, socket_id, 0)));
  auto induction = client.receiveHandshake(socket_id, kReplyTimeout);
  ASSERT_TRUE(induction) << "no induction response";
  const std::uint32_t* ihs = induction->data() + kHeaderWords;
  ASSERT_EQ(ihs[kVersion], kHsVersionSrt1);
  ASSERT_EQ(ihs[kType] & 0xFFFF, kSrtMagicCode);
  ASSERT_EQ(ihs[kReqType], kUrqInduction);
  const std::uint32_t cookie = ihs[kCookie];

  // 2. CONCLUSION with the cookie, a valid HSREQ and the oversized block.
  const std::uint32_t ext = kExtHsReq | c.ext_flags;
  const std::uint32_t pbkeylen = 16 / 8;  // SRT_HSTYPE_ENCFLAGS: AES-128
  auto conclusion =
      handshake(kHsVersionSrt1, pbkeylen << 16 | ext, kUrqConclusion, socket_id, cookie);
  appendBlock(conclusion, kCmdHsReq, {kSrtVersion, kSrtOpts, 120u << 16 | 120u});
  std::vector<std::uint32_t> body(c.words);
  for (auto& w : body)
    w = static_cast<std::uint32_t>(rng());
  appendBlock(conclusion, c.cmd, body);
  ASSERT_LE(conclusion.size() * 4, 1500u - 28u);  // one UDP datagram within the MSS
  ASSERT_TRUE(client.send(port, conclusion));

  // 3. The listener answers with a rejection: request type 1000 + SRT_REJ_*.
  auto answer = client.receiveHandshake(socket_id, kReplyTimeout);
  ASSERT_TRUE(answer) << "no conclusion response (receiver alive: " << receiver_.alive() << ")";
  const std::uint32_t* ahs = answer->data() + kHeaderWords;
  EXPECT_EQ(ahs[kReqType], kUrqFailureTypes + c.reject)
      << "expected a rejection of the conclusion handshake";
  EXPECT_TRUE(waitUntil([&] { return receiver_.log().find(c.log_line) != std::string::npos; },
                        kReplyTimeout))
      << "the receiver's log does not mention the rejection: " << c.log_line;
  EXPECT_TRUE(receiver_.alive());
  std::cout << "conclusion answered with request type " << ahs[kReqType]
            << "; receiver log: " << c.log_line << "...\n";

  // 4. The stream that was already flowing is complete.
  auto sent = sender_.wait(kStreamTimeout);
  ASSERT_TRUE(sent) << "the sender did not finish";
  EXPECT_EQ(Child::describe(*sent), "exit 0");
  const auto input_size = fs::file_size(input_);
  EXPECT_TRUE(waitUntil(
      [&] {
        std::error_code ec;
        return fs::file_size(output_, ec) >= input_size || !receiver_.alive();
      },
      kStreamTimeout));
  ASSERT_TRUE(receiver_.alive()) << "the receiver died";
  receiver_.kill(SIGINT);
  auto received = receiver_.wait(kStartTimeout);
  ASSERT_TRUE(received) << "the receiver did not stop on SIGINT";
  EXPECT_EQ(Child::describe(*received), "exit 0");
  EXPECT_TRUE(readFile(output_) == readFile(input_))
      << "output differs from input (" << fs::file_size(output_) << " vs " << input_size
      << " bytes)";

  auto stats = statsWithData();
  ASSERT_FALSE(stats.empty());
  std::size_t links_seen = 0;
  for (const auto& s : stats) {
    for (const auto& l : s["links"]) {
      ++links_seen;
      EXPECT_EQ(l.value("pkts_lost_recv", -1), 0) << l.dump();
      EXPECT_EQ(l.value("pkts_dropped_recv", -1), 0) << l.dump();
    }
  }
  EXPECT_GT(links_seen, 0u);
}

INSTANTIATE_TEST_SUITE_P(Patches, HandshakeTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

// VmRSS of a process in kB (0 if unreadable).
long residentKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  }
  return 0;
}

// A well-formed caller handshake that claims a flow window of 2^26 packets, to a receiver
// without a passphrase (so the handshake is good and the connection is set up). libsrt
// 1.5.1 sizes the send loss list from the peer's window: 2^27 entries of 8 bytes, allocated
// and written at once: the listener went from 31 MB to 1.6 GB for one datagram
// (patches/libsrt/0007 caps the window at the send buffer's size). The listener must
// answer without growing by more than a few MB.
TEST(FlowWindow, AHandshakeClaimingAHugeFlowWindowCostsTheListenerNoMemory) {
  const fs::path dir = fs::temp_directory_path() / ("bondcast-hs-fw-" + std::to_string(getpid()));
  fs::create_directories(dir);
  Child receiver;
  ASSERT_TRUE(receiver.start({BONDCAST_BINARY, "recv", "--listen", "srt://127.0.0.1:0", "--output",
                              (dir / "out.ts").string()},
                             dir / "recv.log"));
  const std::uint16_t port = listeningPort(receiver);
  ASSERT_NE(port, 0) << receiver.log();
  const long rss_before = residentKb(receiver.pid());
  ASSERT_GT(rss_before, 0);

  std::mt19937 rng(20261204);
  const std::uint32_t socket_id = (rng() & 0x3FFFFFFF) | 1;
  HandshakeClient client;
  ASSERT_TRUE(client.send(port, handshake(kHsVersionUdt4, kUdtDgram, kUrqInduction, socket_id, 0)));
  auto induction = client.receiveHandshake(socket_id, kReplyTimeout);
  ASSERT_TRUE(induction) << "no induction response";
  const std::uint32_t cookie = induction->data()[kHeaderWords + kCookie];
  auto conclusion = handshake(kHsVersionSrt1, kExtHsReq, kUrqConclusion, socket_id, cookie);
  conclusion[kHeaderWords + kFlightSize] = 1u << 26;
  appendBlock(conclusion, kCmdHsReq, {kSrtVersion, kSrtOpts, 120u << 16 | 120u});
  ASSERT_TRUE(client.send(port, conclusion));
  auto answer = client.receiveHandshake(socket_id, kReplyTimeout);
  ASSERT_TRUE(answer) << "no conclusion response (receiver alive: " << receiver.alive() << ")";
  const std::uint32_t req_type = answer->data()[kHeaderWords + kReqType];
  // The connection is set up (its flow window capped) or refused; either way cheaply.
  const long rss_after = residentKb(receiver.pid());
  std::cout << "conclusion answered with request type " << req_type << "; receiver RSS "
            << rss_before << " -> " << rss_after << " kB\n";
  EXPECT_TRUE(receiver.alive());
  EXPECT_LT(rss_after - rss_before, 32 * 1024) << "the flow window was allocated as claimed";
  receiver.kill(SIGKILL);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
