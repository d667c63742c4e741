// SPDX-License-Identifier: MPL-2.0
// Draws the live view's lines (live_view.h) and the log lines around them.
//
// In place (a terminal): each frame replaces the previous one: the cursor goes up over
// it and the lines are rewritten, so the table updates instead of scrolling. Log lines
// go above the table (erased, the line written, drawn again below it). Otherwise (a
// file, a pipe): each frame is written as plain lines and a blank line, log lines as
// they come.
//
// Frames are written by a thread of the view's own: the threads that make stats (the
// sender's stats thread, the receiver's thread) never wait for a terminal (STYLE 15);
// a frame not yet written when the next one comes is replaced by it. Log lines are
// written by the thread that logs, as spdlog's own sinks do.
#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bondcast::app {

// A terminal's size in characters; 0: unknown (no limit).
struct TerminalSize {
  int columns = 0;
  int rows = 0;
};

// What replaces a frame on a terminal: the bytes to write and how many lines they draw.
struct Redraw {
  std::string bytes;
  int lines = 0;
};
// Replaces the `previous_lines` lines drawn last (0: none; the cursor is at the start of
// the line below them) with `lines`, leaving the cursor below them. Lines are cut to
// columns - 1 characters (a wrapped line would throw the cursor arithmetic off) and to
// rows - 1 lines, control characters (a remote stream id may hold some) shown as '?'.
Redraw redraw(const std::vector<std::string>& lines, int previous_lines, TerminalSize size);
// The bytes that write `log_line` (ending in '\n') over the first of the
// `previous_lines` lines drawn last, each of its lines cleared behind it, leaving the
// cursor below it (where the table goes again). Nothing clears the whole screen: a
// terminal may keep what it clears that way in its scrollback (tmux's
// scroll-on-clear), which would then hold a copy of the table at every log line.
std::string logOverTable(std::string_view log_line, int previous_lines);
// `lines` as plain text: each with its newline, a blank line after them.
std::string plainText(const std::vector<std::string>& lines);

class TerminalView {
 public:
  // Draws on `fd` (not owned; it must stay open until stop()), in place or plain. The
  // thread starts with the first frame, from the thread that shows it, whose signal
  // mask it inherits (common/signals.h: the stop signals are blocked in every thread but
  // one; a view made before installStopSignals must not start a thread that lacks it).
  static std::shared_ptr<TerminalView> create(int fd, bool in_place);
  ~TerminalView();
  TerminalView(const TerminalView&) = delete;
  TerminalView& operator=(const TerminalView&) = delete;

  // Any thread, returns at once (after starting the thread, the first time): the next
  // frame.
  void show(std::vector<std::string> lines);
  // Any thread: one log line (ending in '\n'), above the table.
  void log(std::string_view line);
  // Writes the frame not yet written, then ends the thread. The table stays on the
  // terminal; later frames are ignored, later log lines go below it.
  void stop();

 private:
  TerminalView(int fd, bool in_place) : fd_(fd), in_place_(in_place) {}
  void run();
  void draw(const std::vector<std::string>& lines);
  void write(const std::string& bytes) const;

  const int fd_;
  const bool in_place_;
  // The next frame, handed from show() to the thread.
  std::mutex next_mu_;
  std::condition_variable next_cv_;
  std::optional<std::vector<std::string>> next_;
  bool stopping_ = false;
  std::thread thread_;  // started by the first show()
  // What is on the terminal: written by the thread and by log().
  std::mutex out_mu_;
  std::vector<std::string> drawn_;
  int drawn_lines_ = 0;
};

// A spdlog sink that writes each line through view->log().
spdlog::sink_ptr logSinkFor(std::shared_ptr<TerminalView> view);

// An on_stats callback (SendSession, Receiver) that draws every record with `table`
// (SenderTable or ReceiverTable), with the time since it was made. Not thread-safe:
// one thread calls it (the sender's stats thread, the receiver's thread).
template <class Table>
std::function<void(const nlohmann::json&)> drawRecords(std::shared_ptr<TerminalView> view,
                                                       std::shared_ptr<Table> table) {
  const auto start = std::chrono::steady_clock::now();
  return [view = std::move(view), table = std::move(table), start](const nlohmann::json& record) {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
    view->show(table->render(record, elapsed));
  };
}

}  // namespace bondcast::app
