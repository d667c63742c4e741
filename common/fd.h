// SPDX-License-Identifier: MPL-2.0
// One owner for a POSIX file descriptor (STYLE.md rule 6): closed once, by its owner,
// when the owner goes; moved, never copied. A descriptor the process does not own
// (stdin, stdout) is duplicated first (dupOf), so that every Fd owns what it closes.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <utility>

namespace bondcast {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset(std::exchange(o.fd_, -1));
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  // A close-on-exec copy of `fd`, which stays open; invalid (errno set) on failure.
  static Fd dupOf(int fd) { return Fd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  // Closes what it holds and takes `fd` instead.
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }
  // Gives the descriptor up without closing it.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

}  // namespace bondcast
