// SPDX-License-Identifier: MPL-2.0
// `--http` on the real `bondcast recv` and `bondcast send`: while an adaptive stream
// runs over two loopback links, both serve /metrics (well-formed Prometheus text whose
// counters move), /stats (JSON), /health (200) and 404 or 405 for anything else, with no
// passphrase in sight; a port in use ends the program with exit code 1 naming it, a bad
// address with exit code 2. The client is cpp-httplib's, the library the server uses.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tests/app/exposition_parser.h"
#include "tests/e2e/support/bondcast_test.h"

namespace bondcast::e2e {
namespace {

constexpr const char* kSecret = "http-test-secret-42";

class HttpEndpointRun : public BondcastTest {
 protected:
  // The port a process logged it serves HTTP on (it may have asked for port 0).
  static std::uint16_t httpPort(Process& p) {
    const std::regex logged(R"(serving /metrics, /stats and /health on http://\S+:(\d+))");
    std::smatch m;
    std::string err;
    bool found = waitUntil(
        [&] {
          err = p.stderrText();
          return std::regex_search(err, m, logged) || !p.running();
        },
        20s);
    EXPECT_TRUE(found && !m.empty()) << "no HTTP port logged:\n" << err;
    return m.empty() ? 0 : static_cast<std::uint16_t>(std::stoi(m[1].str()));
  }

  // The value of the first series of `name` whose labels include `want`, if any.
  static std::optional<double> sample(const testing::Exposition& e, const std::string& name,
                                      const std::map<std::string, std::string>& want) {
    auto it = e.labels.find(name);
    if (it == e.labels.end()) {
      return std::nullopt;
    }
    for (const auto& labels : it->second) {
      bool match = true;
      for (const auto& [k, v] : want) {
        auto l = labels.find(k);
        match = match && l != labels.end() && l->second.find(v) != std::string::npos;
      }
      if (!match) {
        continue;
      }
      std::string key = name + "{";
      for (const auto& [k, v] : labels) {
        key.append(k).append("=\"").append(v).append("\",");
      }
      return e.series.at(key + "}");
    }
    return std::nullopt;
  }

  // GET /metrics, checked line by line; nullopt (and a failure) if it is not served.
  static std::optional<testing::Exposition> scrape(httplib::Client& c) {
    auto res = c.Get("/metrics");
    if (!res) {
      ADD_FAILURE() << "GET /metrics failed: " << httplib::to_string(res.error());
      return std::nullopt;
    }
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(res->body.find(kSecret), std::string::npos) << res->body;
    auto e = testing::parseExposition(res->body);
    for (const auto& err : e.errors) {
      ADD_FAILURE() << err;
    }
    return e;
  }

  // Scrapes until `name`{want} exists (first) and then has grown (second).
  static void expectCounterMoves(httplib::Client& c, const std::string& name,
                                 const std::map<std::string, std::string>& want) {
    std::optional<double> first, later;
    EXPECT_TRUE(waitUntil(
        [&] {
          auto e = scrape(c);
          first = e ? sample(*e, name, want) : std::nullopt;
          return first && *first > 0;
        },
        30s, 200ms))
        << name << " never appeared with a value > 0";
    if (!first) {
      return;
    }
    EXPECT_TRUE(waitUntil(
        [&] {
          auto e = scrape(c);
          later = e ? sample(*e, name, want) : std::nullopt;
          return later && *later > *first;
        },
        30s, 200ms))
        << name << " did not move from " << *first;
  }

  static void expectOtherPathsAndMethodsRefused(httplib::Client& c) {
    auto nope = c.Get("/nope");
    ASSERT_TRUE(nope);
    EXPECT_EQ(nope->status, 404);
    auto post = c.Post("/metrics", "x", "text/plain");
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 405);
    EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
    auto head = c.Head("/metrics");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_TRUE(head->body.empty());
  }

  static nlohmann::json getJson(httplib::Client& c, const std::string& path, int status) {
    auto res = c.Get(path);
    if (!res) {
      ADD_FAILURE() << "GET " << path << " failed";
      return nullptr;
    }
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(res->body.find(kSecret), std::string::npos) << res->body;
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << path << " is not JSON: " << res->body;
    return j;
  }
};

TEST_F(HttpEndpointRun, ReceiverAndAdaptiveSenderServeMetricsStatsAndHealthWhileStreaming) {
  const std::uint16_t p1 = freeUdpPort(), p2 = freeUdpPort();
  Process receiver =
      startReceiver({p1, p2}, path("out.ts"),
                    {"--latency", "300", "--passphrase", kSecret, "--http", "127.0.0.1:0"});
  const std::uint16_t recv_port = httpPort(receiver);
  ASSERT_NE(recv_port, 0);
  httplib::Client rc("127.0.0.1", recv_port);
  rc.set_connection_timeout(5);
  rc.set_read_timeout(5);
  // Listening, no stream yet: healthy.
  EXPECT_EQ(getJson(rc, "/health", 200)["status"], "ok");

  Process sender = startSender({"--mode", "adaptive", "--input", "testsrc", "--bitrate", "1mbit",
                                "--latency", "300", "--stream-id", "cam1", "--passphrase", kSecret,
                                "--link", srtLink(p1, std::string("passphrase=") + kSecret),
                                "--link", srtLink(p2), "--http", ":0"});
  const std::uint16_t send_port = httpPort(sender);
  ASSERT_NE(send_port, 0);
  httplib::Client sc("127.0.0.1", send_port);
  sc.set_connection_timeout(5);
  sc.set_read_timeout(5);

  // Receiver: a per-stream counter moves between scrapes; per-link-of-stream series.
  expectCounterMoves(rc, "bondcast_stream_payloads_total", {{"stream", "cam1"}});
  if (auto e = scrape(rc)) {
    EXPECT_TRUE(sample(*e, "bondcast_stream_link_payloads_total",
                       {{"stream", "cam1"}, {"link", "link 0"}}));
    EXPECT_TRUE(sample(*e, "bondcast_stream_link_rtt_seconds", {{"stream", "cam1"}}));
    EXPECT_TRUE(sample(*e, "bondcast_stream_playout_margin_seconds",
                       {{"stream", "cam1"}, {"quantile", "0.5"}}));
    EXPECT_EQ(sample(*e, "bondcast_receiver_listening", {{"port", std::to_string(p1)}}), 1.0);
    EXPECT_EQ(e->families["bondcast_stream_payloads_total"].type, "counter");
  }
  auto rstats = getJson(rc, "/stats", 200);
  EXPECT_EQ(rstats["type"], "receiver");
  EXPECT_TRUE(rstats["streams"].is_array());
  EXPECT_EQ(getJson(rc, "/health", 200)["status"], "ok");
  expectOtherPathsAndMethodsRefused(rc);

  // Sender: per-link series with link and mode labels; its counters move too.
  EXPECT_TRUE(waitUntil(
      [&] {
        auto res = sc.Get("/health");
        return res && res->status == 200;
      },
      30s, 200ms))
      << "sender's /health never 200";
  expectCounterMoves(sc, "bondcast_link_packets_sent_total",
                     {{"link", "127.0.0.1:" + std::to_string(p1)}, {"mode", "adaptive"}});
  expectCounterMoves(sc, "bondcast_sender_payloads_sent_total", {{"mode", "adaptive"}});
  if (auto e = scrape(sc)) {
    EXPECT_TRUE(sample(*e, "bondcast_link_rtt_seconds", {{"link", "passphrase=***"}}));
    EXPECT_EQ(e->families["bondcast_link_rtt_seconds"].type, "gauge");
  }
  auto sstats = getJson(sc, "/stats", 200);
  EXPECT_EQ(sstats["type"], "sender");
  EXPECT_EQ(sstats["mode"], "adaptive");
  auto health = getJson(sc, "/health", 200);
  EXPECT_EQ(health["status"], "ok");
  EXPECT_GE(health["links_up"].get<int>(), 1) << health;
  expectOtherPathsAndMethodsRefused(sc);

  // SIGTERM ends both cleanly, their HTTP servers with them.
  sender.signal(SIGTERM);
  EXPECT_EQ(sender.waitExit(20s), 0) << sender.stderrText();
  receiver.signal(SIGTERM);
  EXPECT_EQ(receiver.waitExit(20s), 0) << receiver.stderrText();
  EXPECT_FALSE(sc.Get("/health"));
  EXPECT_FALSE(rc.Get("/health"));
}

// Whether this host has an IPv6 loopback (some containers have none).
bool haveIpv6Loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

TEST_F(HttpEndpointRun, AnIpv6AddressInBracketsWorks) {
  if (!haveIpv6Loopback()) {
    GTEST_SKIP() << "no IPv6 loopback (::1) on this host";
  }
  Process receiver = startReceiver({freeUdpPort()}, path("out.ts"), {"--http", "[::1]:0"});
  EXPECT_TRUE(receiver.stderrContains("on http://[::1]:")) << receiver.stderrText();
  const std::uint16_t port = httpPort(receiver);
  ASSERT_NE(port, 0);
  httplib::Client c("::1", port);
  c.set_connection_timeout(5);
  auto res = c.Get("/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  receiver.signal(SIGINT);
  EXPECT_EQ(receiver.waitExit(20s), 0) << receiver.stderrText();
}

// A TCP port that something listens on for as long as this lives.
class BusyPort {
 public:
  BusyPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 1) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("cannot listen on a TCP port");
    }
    port_ = ntohs(a.sin_port);
  }
  ~BusyPort() { ::close(fd_); }
  BusyPort(const BusyPort&) = delete;
  BusyPort& operator=(const BusyPort&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

TEST_F(HttpEndpointRun, APortInUseEndsEitherCommandWithExitCode1NamingIt) {
  BusyPort busy;
  const std::string address = "127.0.0.1:" + std::to_string(busy.port());
  Finished recv = runToEnd(bondcastArgv({"recv", "--listen", srtLink(freeUdpPort()), "--output",
                                         path("out.ts").string(), "--http", address}),
                           path("recv.log"));
  EXPECT_EQ(recv.exit_code, 1) << recv.err;
  EXPECT_NE(recv.err.find("bondcast recv: --http: cannot listen on " + address), std::string::npos)
      << recv.err;
  EXPECT_NE(recv.err.find("in use"), std::string::npos) << recv.err;

  Finished send = runToEnd(bondcastArgv({"send", "--input", "testsrc", "--link",
                                         srtLink(freeUdpPort()), "--http", address}),
                           path("send.log"));
  EXPECT_EQ(send.exit_code, 1) << send.err;
  EXPECT_NE(send.err.find("bondcast send: --http: cannot listen on " + address), std::string::npos)
      << send.err;
}

TEST_F(HttpEndpointRun, ABadAddressIsAUsageErrorNamingIt) {
  for (const std::string bad : {"nonsense", "127.0.0.1:99999", "::1:9100"}) {
    Finished recv = runToEnd(bondcastArgv({"recv", "--listen", "srt://:9000", "--output",
                                           path("out.ts").string(), "--http", bad}),
                             path("recv.log"));
    EXPECT_EQ(recv.exit_code, 2) << recv.err;
    EXPECT_NE(recv.err.find("--http: '" + bad + "'"), std::string::npos) << recv.err;
    EXPECT_EQ(recv.lines().size(), 1u) << recv.err;
  }
  std::ofstream(path("send.toml")) << "http = \"nonsense\"\n";
  Finished send = runToEnd(bondcastArgv({"send", "--config", path("send.toml").string(), "--input",
                                         "testsrc", "--link", "srt://127.0.0.1:9000"}),
                           path("send.log"));
  EXPECT_EQ(send.exit_code, 2) << send.err;
  EXPECT_NE(send.err.find("'nonsense'"), std::string::npos) << send.err;
}

// --stats shares --http's checks in both commands (app/cli_common.h, openHttpAndStats).
TEST_F(HttpEndpointRun, AStatsFileThatCannotBeOpenedEndsEitherCommandWithExitCode1NamingIt) {
  const std::string stats = path("no-such-folder/stats.jsonl").string();
  Finished recv = runToEnd(bondcastArgv({"recv", "--listen", srtLink(freeUdpPort()), "--output",
                                         path("out.ts").string(), "--stats", stats}),
                           path("recv.log"));
  EXPECT_EQ(recv.exit_code, 1) << recv.err;
  EXPECT_NE(recv.err.find("bondcast recv: cannot open stats file '" + stats + "'"),
            std::string::npos)
      << recv.err;
  EXPECT_FALSE(std::filesystem::exists(path("out.ts"))) << "recv started although it failed";

  Finished send = runToEnd(bondcastArgv({"send", "--input", "testsrc", "--link",
                                         srtLink(freeUdpPort()), "--stats", stats}),
                           path("send.log"));
  EXPECT_EQ(send.exit_code, 1) << send.err;
  EXPECT_NE(send.err.find("bondcast send: cannot open stats file '" + stats + "'"),
            std::string::npos)
      << send.err;
}

}  // namespace
}  // namespace bondcast::e2e
