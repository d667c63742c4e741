// SPDX-License-Identifier: MPL-2.0
#include "app/terminal_view.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/sinks/base_sink.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace bondcast::app {
namespace {

// ANSI (ECMA-48) sequences: clear to the end of the line, clear to the end of the screen.
constexpr std::string_view kClearLine = "\x1b[K";
constexpr std::string_view kClearBelow = "\x1b[J";

std::string printable(std::string_view line, std::size_t max_chars) {
  std::string out(line.substr(0, max_chars));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return out;
}

TerminalSize sizeOf(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) {
    return {};
  }
  return {ws.ws_col, ws.ws_row};
}

class ViewSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ViewSink(std::shared_ptr<TerminalView> view) : view_(std::move(view)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    view_->log(std::string_view(line.data(), line.size()));
  }
  void flush_() override {}

 private:
  std::shared_ptr<TerminalView> view_;
};

}  // namespace

std::string logOverTable(std::string_view log_line, int previous_lines) {
  std::string out = "\r";
  if (previous_lines > 0) {
    out += fmt::format("\x1b[{}A", previous_lines);
  }
  for (char c : log_line) {
    if (c == '\n') {
      out += kClearLine;
    }
    out += c;
  }
  return out;
}

Redraw redraw(const std::vector<std::string>& lines, int previous_lines, TerminalSize size) {
  const std::size_t max_chars =
      size.columns > 1 ? static_cast<std::size_t>(size.columns - 1) : std::string::npos;
  std::size_t count = lines.size();
  if (size.rows > 1 && count > static_cast<std::size_t>(size.rows - 1)) {
    count = static_cast<std::size_t>(size.rows - 1);
  }
  std::string out = "\r";
  if (previous_lines > 0) {
    out += fmt::format("\x1b[{}A", previous_lines);
  }
  // Each line over the old one, cleared behind it; then whatever the old frame had below.
  for (std::size_t i = 0; i < count; ++i) {
    const bool cut = count < lines.size() && i + 1 == count;
    const std::string line =
        cut ? fmt::format("... {} more lines", lines.size() - count + 1) : lines[i];
    out += printable(line, max_chars);
    out += kClearLine;
    out += '\n';
  }
  out += kClearBelow;
  return {out, static_cast<int>(count)};
}

std::string plainText(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    out += printable(line, std::string::npos);
    out += '\n';
  }
  out += '\n';
  return out;
}

std::shared_ptr<TerminalView> TerminalView::create(int fd, bool in_place) {
  return std::shared_ptr<TerminalView>(new TerminalView(fd, in_place));
}

TerminalView::~TerminalView() {
  stop();
}

void TerminalView::show(std::vector<std::string> lines) {
  {
    std::lock_guard lock(next_mu_);
    if (stopping_) {
      return;
    }
    next_ = std::move(lines);
    if (!thread_.joinable()) {
      thread_ = std::thread([this] { run(); });
    }
  }
  next_cv_.notify_one();
}

void TerminalView::stop() {
  std::thread thread;
  {
    std::lock_guard lock(next_mu_);
    stopping_ = true;
    thread.swap(thread_);
  }
  next_cv_.notify_one();
  if (thread.joinable()) {
    thread.join();
  }
  std::lock_guard lock(out_mu_);
  drawn_lines_ = 0;  // the last table stays; what comes later goes below it
  drawn_.clear();
}

void TerminalView::run() {
  while (true) {
    std::vector<std::string> lines;
    {
      std::unique_lock lock(next_mu_);
      next_cv_.wait(lock, [this] { return next_.has_value() || stopping_; });
      if (!next_) {
        return;  // stopping, every frame written
      }
      lines = std::move(*next_);
      next_.reset();
    }
    draw(lines);
  }
}

void TerminalView::draw(const std::vector<std::string>& lines) {
  std::lock_guard lock(out_mu_);
  if (!in_place_) {
    write(plainText(lines));
    return;
  }
  const Redraw r = redraw(lines, drawn_lines_, sizeOf(fd_));
  write(r.bytes);
  drawn_ = lines;
  drawn_lines_ = r.lines;
}

void TerminalView::log(std::string_view line) {
  std::lock_guard lock(out_mu_);
  std::string text(line);
  if (in_place_ && drawn_lines_ > 0) {
    // The line takes the table's place; the table goes below it again.
    const Redraw r = redraw(drawn_, 0, sizeOf(fd_));
    text = logOverTable(text, drawn_lines_) + r.bytes;
    drawn_lines_ = r.lines;
  }
  write(text);
}

void TerminalView::write(const std::string& bytes) const {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // nowhere to draw (closed, full): the view is best effort
    }
    done += static_cast<std::size_t>(n);
  }
}

spdlog::sink_ptr logSinkFor(std::shared_ptr<TerminalView> view) {
  return std::make_shared<ViewSink>(std::move(view));
}

}  // namespace bondcast::app
