// SPDX-License-Identifier: MPL-2.0
// Drawing the live view (app/terminal_view.h): the bytes that redraw a table in place
// on a terminal, plain frames elsewhere, log lines above the table.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/sink.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "app/terminal_view.h"

namespace bondcast::app {
namespace {

TEST(Redraw, FirstDrawsTheLinesEachClearedBehind) {
  auto r = redraw({"title", "row 1"}, 0, {});
  EXPECT_EQ(r.bytes, "\rtitle\x1b[K\nrow 1\x1b[K\n\x1b[J");
  EXPECT_EQ(r.lines, 2);
}

TEST(Redraw, GoesUpOverThePreviousFrameAndClearsWhatItLeavesBelow) {
  auto r = redraw({"title"}, 3, {});
  EXPECT_EQ(r.bytes, "\r\x1b[3Atitle\x1b[K\n\x1b[J");
  EXPECT_EQ(r.lines, 1);
}

TEST(Redraw, FitsTheTerminalSoThatNoLineWraps) {
  auto r = redraw({"0123456789abcdefghijkl", "a", "b", "c", "d"}, 0, {.columns = 20, .rows = 4});
  EXPECT_EQ(r.bytes, "\r0123456789abcdefghi\x1b[K\na\x1b[K\n... 3 more lines\x1b[K\n\x1b[J");
  EXPECT_EQ(r.lines, 3);
}

TEST(Redraw, ShowsControlCharactersAsQuestionMarks) {
  // A stream id comes from the network: it must not move the cursor or change colours.
  auto r = redraw({"stream \x1b[2Jevil\x07"}, 0, {});
  EXPECT_EQ(r.bytes, "\rstream ?[2Jevil?\x1b[K\n\x1b[J");
  EXPECT_EQ(plainText({"a\tb"}), "a?b\n\n");
}

TEST(LogOverTable, GoesBackToTheTablesFirstLineAndClearsOnlyTheLinesItWrites) {
  EXPECT_EQ(logOverTable("link down\n", 4), "\r\x1b[4Alink down\x1b[K\n");
  EXPECT_EQ(logOverTable("a\nb\n", 0), "\ra\x1b[K\nb\x1b[K\n");
}

TEST(PlainText, IsTheLinesAndABlankLine) {
  EXPECT_EQ(plainText({"title", "row"}), "title\nrow\n\n");
}

// A TerminalView drawing into a pipe, and what came out of it.
class TerminalViewOnAPipe : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::pipe(fds_), 0);
    ASSERT_EQ(::fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
  }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::string readAll() {
    char buf[4096];
    for (ssize_t n; (n = ::read(fds_[0], buf, sizeof buf)) > 0;) {
      out_.append(buf, static_cast<std::size_t>(n));
    }
    return out_;
  }
  // Polls until `expected` has come out (bounded).
  bool cameOut(const std::string& expected) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (readAll() != expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return out_ == expected;
  }
  int writeEnd() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
  std::string out_;
};

TEST_F(TerminalViewOnAPipe, InPlaceRedrawsEachFrameOverThePreviousOne) {
  auto view = TerminalView::create(writeEnd(), true);
  view->show({"frame 1", "row"});
  const std::string first = redraw({"frame 1", "row"}, 0, {}).bytes;
  ASSERT_TRUE(cameOut(first));
  view->show({"frame 2", "row"});
  view->stop();
  EXPECT_EQ(readAll(), first + redraw({"frame 2", "row"}, 2, {}).bytes);
}

TEST_F(TerminalViewOnAPipe, InPlaceALogLineGoesAboveTheTable) {
  auto view = TerminalView::create(writeEnd(), true);
  view->show({"title", "row"});
  const std::string frame = redraw({"title", "row"}, 0, {}).bytes;
  ASSERT_TRUE(cameOut(frame));
  const std::string line = "12:00:00.000 send warning: link 2 broken\n";
  view->log(line);
  EXPECT_EQ(readAll(), frame + logOverTable(line, 2) + frame);
  // Stopped, the table stays and later lines go below it.
  view->stop();
  view->log("after\n");
  EXPECT_EQ(readAll(), frame + logOverTable(line, 2) + frame + "after\n");
}

TEST_F(TerminalViewOnAPipe, PlainWritesEveryFrameAndLogLinesAsTheyCome) {
  auto view = TerminalView::create(writeEnd(), false);
  view->log("starting\n");
  view->show({"frame 1"});
  ASSERT_TRUE(cameOut("starting\nframe 1\n\n"));
  view->show({"frame 2"});
  view->stop();
  view->show({"frame 3"});  // after stop(): not drawn
  EXPECT_EQ(readAll(), "starting\nframe 1\n\nframe 2\n\n");
}

TEST_F(TerminalViewOnAPipe, LogsGoThroughItsSpdlogSink) {
  auto view = TerminalView::create(writeEnd(), false);
  auto sink = logSinkFor(view);
  sink->set_pattern("%l: %v");
  sink->log(spdlog::details::log_msg("test", spdlog::level::warn, "link down"));
  EXPECT_EQ(readAll(), "warning: link down\n");
}

}  // namespace
}  // namespace bondcast::app
