// SPDX-License-Identifier: MPL-2.0
// The live view of the real `bondcast send` and `bondcast recv` (issue 15: "the live
// view in a tmux session shows one row per link and updates"). An adaptive stream of
// the test pattern runs over two loopback links; the process under test runs in a
// detached tmux session (its stderr a terminal 200 x 50) on a tmux server of the test's
// own, and the test reads the pane with `tmux capture-pane -p` until the table shows one
// row per link, then until it has been redrawn in place with new figures. Without a
// terminal, --view writes plain frames; on a terminal, --no-view leaves the log alone.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"

namespace bondcast::e2e {
namespace {

// Runs `command` with /bin/sh and returns what it wrote to stdout.
std::string output(const std::string& command) {
  std::string out;
  std::FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    return out;
  }
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) {
    out.append(buf, n);
  }
  ::pclose(p);
  return out;
}

std::string quoted(const std::string& word) {
  std::string q = "'";
  for (char c : word) {
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return q + "'";
}

std::string shellLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) {
    line += (line.empty() ? "" : " ") + quoted(a);
  }
  return line;
}

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  for (char c : text) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) {
    lines.push_back(line);
  }
  return lines;
}

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The table's rows: lines that start with a link number ("  1  127.0.0.1:9000  up ...").
std::vector<std::string> rows(const std::string& pane) {
  static const std::regex row(R"(^\s+\d+\*?\s+\S.*\s(up|connecting|stalled|idle|broken|down)\s.*)");
  std::vector<std::string> out;
  for (const auto& line : linesOf(pane)) {
    if (std::regex_match(line, row)) {
      out.push_back(line);
    }
  }
  return out;
}

// The number after `label` on the first line holding it ("payloads 1234"), or -1.
long long numberAfter(const std::string& text, const std::string& label) {
  const std::regex re(label + R"( (\d+))");
  std::smatch m;
  return std::regex_search(text, m, re) ? std::stoll(m[1].str()) : -1;
}

class LiveView : public BondcastTest {
 protected:
  void SetUp() override {
    BondcastTest::SetUp();
    if (output("command -v tmux").empty()) {
      GTEST_SKIP() << "tmux is not installed (Debian package tmux; tools/setup installs it): "
                      "the live view is read from a tmux pane";
    }
    // A server of the test's own, with no user configuration; panes stay once their
    // process ends, so that its last table can be read.
    socket_ = "bondcast-view-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::ofstream(path("tmux.conf")) << "set-option -g remain-on-exit on\n";
  }
  void TearDown() override {
    if (!socket_.empty()) {
      if (HasFailure()) {
        for (const auto& session : sessions_) {
          std::cerr << "pane of '" << session << "':\n" << capture(session) << "\n";
        }
      }
      const std::string socket_path = output(tmux("display-message -p '#{socket_path}'"));
      output(tmux("kill-server") + " 2>/dev/null");
      // tmux leaves its socket behind.
      if (!socket_path.empty()) {
        std::filesystem::remove(socket_path.substr(0, socket_path.find('\n')));
      }
    }
    BondcastTest::TearDown();
  }

  std::string tmux(const std::string& args) const {
    return "tmux -L " + quoted(socket_) + " -f " + quoted(path("tmux.conf").string()) + " " + args;
  }

  // `argv` in a new detached tmux session `name` (200 x 50); its process id.
  pid_t startInTmux(const std::string& name, const std::vector<std::string>& argv) {
    sessions_.push_back(name);
    const std::string command = "exec " + shellLine(argv);
    output(tmux("new-session -d -s " + name + " -x 200 -y 50 " + quoted(command)));
    const std::string pid = output(tmux("display-message -p -t " + name + " '#{pane_pid}'"));
    return pid.empty() ? -1 : static_cast<pid_t>(std::stol(pid));
  }

  // The pane's text, its history included: a table that scrolled instead of being
  // redrawn shows there, and the last one stays whole when tmux scrolls the screen up
  // a line to say that the pane's process ended.
  std::string capture(const std::string& session) const {
    return output(tmux("capture-pane -p -S - -t " + session) + " 2>/dev/null");
  }

  // Polls the pane until `condition` holds for it (bounded); the last capture.
  std::string waitForPane(const std::string& session,
                          const std::function<bool(const std::string&)>& condition,
                          std::chrono::milliseconds timeout, const std::string& what) {
    std::string pane;
    bool ok = waitUntil(
        [&] {
          pane = capture(session);
          return condition(pane);
        },
        timeout, 100ms);
    EXPECT_TRUE(ok) << "the pane of '" << session << "' never showed " << what << ":\n" << pane;
    return pane;
  }

  // Waits until the pane shows what `table_shown` looks for, then until it shows it
  // again with more payloads: the table updates. In place: its title `title` is in
  // the pane (history included) once. The first capture.
  std::string expectTableUpdatesInPlace(const std::string& session,
                                        const std::function<bool(const std::string&)>& table_shown,
                                        const std::string& title, const std::string& what) {
    const std::string first = waitForPane(session, table_shown, 20s, what);
    const long long payloads = numberAfter(first, "payloads");
    const std::string later = waitForPane(
        session,
        [&](const std::string& pane) {
          return numberAfter(pane, "payloads") > payloads && table_shown(pane);
        },
        20s, what + " with more than " + std::to_string(payloads) + " payloads");
    EXPECT_EQ(count(later, title), 1) << "the table scrolled:\n" << later;
    EXPECT_EQ(count(later, "share %"), count(first, "share %")) << later;
    return first;
  }

  // An adaptive sender of the test pattern over links to `ports`.
  std::vector<std::string> senderArgs(const std::vector<std::uint16_t>& ports,
                                      const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {
        "--mode", "adaptive",  "--input", "testsrc", "--bitrate",
        "2mbit",  "--latency", "200",     "--stats", path("send.jsonl").string()};
    for (auto port : ports) {
      args.insert(args.end(), {"--link", srtLink(port)});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::string socket_;
  std::vector<std::string> sessions_;
};

TEST_F(LiveView, SenderInATerminalShowsOneRowPerLinkAndUpdatesInPlace) {
  const std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
  Process receiver = startReceiver(ports, path("out.ts"));
  std::vector<std::string> argv = bondcastArgv({"send"});
  const auto args = senderArgs(ports);
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t sender = startInTmux("send", argv);
  ASSERT_GT(sender, 0);

  const std::string port0 = "127.0.0.1:" + std::to_string(ports[0]);
  const std::string port1 = "127.0.0.1:" + std::to_string(ports[1]);
  auto oneRowPerLink = [&](const std::string& pane) {
    auto r = rows(pane);
    return r.size() == 2 && r[0].find(port0) != std::string::npos &&
           r[1].find(port1) != std::string::npos && numberAfter(pane, "payloads") > 0;
  };
  // Both up once; later a starved sender may show a link stalled for a moment.
  waitForPane(
      "send",
      [&](const std::string& pane) { return oneRowPerLink(pane) && count(pane, " up ") == 2; }, 20s,
      "one row per link, both up");
  const std::string first = expectTableUpdatesInPlace(
      "send", oneRowPerLink, "bondcast send  adaptive mode", "one row per link");
  EXPECT_EQ(count(first, "share %"), 1) << first;

  // SIGTERM: the last table stays, marked final.
  ASSERT_EQ(::kill(sender, SIGTERM), 0);
  std::string last = waitForPane(
      "send", [](const std::string& pane) { return pane.find("(final)") != std::string::npos; },
      15s, "the final table");
  EXPECT_EQ(rows(last).size(), 2U) << last;
  stopReceiverAt(receiver, path("out.ts"), 0);
}

TEST_F(LiveView, ReceiverInATerminalShowsItsStreamWithOneRowPerLinkAndUpdates) {
  const std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
  std::vector<std::string> args = {"recv", "--output", path("out.ts").string(), "--duration",
                                   "120s"};
  for (auto port : ports) {
    args.insert(args.end(), {"--listen", srtLink(port)});
  }
  const pid_t receiver = startInTmux("recv", bondcastArgv(args));
  ASSERT_GT(receiver, 0);
  waitForPane(
      "recv",
      [&](const std::string& pane) {
        return pane.find("waiting for senders") != std::string::npos &&
               pane.find("(port " + std::to_string(ports[1]) + ")") != std::string::npos;
      },
      10s, "the receiver listening and waiting");

  Process sender = startSender(senderArgs(ports, {"--stream-id", "cam1"}));
  auto streamWithTwoLinks = [&](const std::string& pane) {
    auto r = rows(pane);
    return pane.find("stream cam1  adaptive") != std::string::npos && r.size() == 2 &&
           r[0].find("link 0") != std::string::npos && r[1].find("link 1") != std::string::npos &&
           numberAfter(pane, "payloads") > 0;
  };
  const std::string first = expectTableUpdatesInPlace("recv", streamWithTwoLinks, "bondcast recv",
                                                      "stream cam1 with two links");
  EXPECT_NE(first.find("lost 0"), std::string::npos) << first;

  sender.signal(SIGTERM);
  EXPECT_EQ(sender.waitExit(15s), 0) << sender.stderrText();
  ASSERT_EQ(::kill(receiver, SIGTERM), 0);
  waitForPane(
      "recv", [](const std::string& pane) { return pane.find("(final)") != std::string::npos; },
      15s, "the final table");
}

TEST_F(LiveView, NoViewInATerminalLeavesTheLogAsItWas) {
  const std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
  Process receiver = startReceiver(ports, path("out.ts"));
  std::vector<std::string> argv = bondcastArgv({"send"});
  const auto args = senderArgs(ports, {"--no-view"});
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t sender = startInTmux("send", argv);
  ASSERT_GT(sender, 0);
  // Two stats records later the table would have been drawn twice.
  EXPECT_TRUE(waitUntil([&] { return jsonLines(path("send.jsonl")).size() >= 2; }, 20s))
      << "the sender wrote no stats";
  const std::string pane = capture("send");
  EXPECT_NE(pane.find("in adaptive mode over 2 link(s)"), std::string::npos)
      << "no info line in the log:\n"
      << pane;
  EXPECT_EQ(pane.find("share %"), std::string::npos) << pane;
  EXPECT_TRUE(rows(pane).empty()) << pane;
  ASSERT_EQ(::kill(sender, SIGTERM), 0);
  stopReceiverAt(receiver, path("out.ts"), 0);
}

TEST_F(LiveView, ViewWithoutATerminalWritesPlainFrames) {
  const std::vector<std::uint16_t> ports = {freeUdpPort(), freeUdpPort()};
  Process receiver = startReceiver(ports, path("out.ts"));
  Process sender = startSender(senderArgs(ports, {"--view"}));
  // Frames one after the other, each with its two rows.
  EXPECT_TRUE(waitUntil(
      [&] { return count(sender.stderrText(), "bondcast send  adaptive mode") >= 2; }, 20s))
      << sender.stderrText();
  sender.signal(SIGTERM);
  EXPECT_EQ(sender.waitExit(15s), 0);
  const std::string err = sender.stderrText();
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << "escape sequences in a file:\n" << err;
  EXPECT_EQ(rows(err).size(), 2U * static_cast<std::size_t>(count(err, "share %"))) << err;
  EXPECT_NE(err.find("(final)"), std::string::npos) << err;
  // The receiver, without --view and without a terminal, logs as always: no table.
  stopReceiverAt(receiver, path("out.ts"), 0);
  EXPECT_EQ(receiver.stderrText().find("share %"), std::string::npos) << receiver.stderrText();
}

}  // namespace
}  // namespace bondcast::e2e
