// SPDX-License-Identifier: MPL-2.0
// One owner per descriptor and per C stream (common/fd.h, common/file.h): closed once,
// by the owner; moved, never copied; stdin, stdout and stderr only ever duplicated.
#include "common/fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

#include "common/file.h"

namespace bondcast {
namespace {

bool isOpen(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

// A descriptor of a pipe's read end, and the write end kept to check the read end.
struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read = fds[0];
    write = fds[1];
  }
};

static_assert(!std::is_copy_constructible_v<Fd> && !std::is_copy_assignable_v<Fd>);
static_assert(std::is_nothrow_move_constructible_v<Fd>);

TEST(Fd, ClosesWhatItOwnsOnceWhenItGoes) {
  Pipe p;
  {
    Fd owner(p.read);
    EXPECT_TRUE(owner.valid());
    EXPECT_EQ(owner.get(), p.read);
  }
  EXPECT_FALSE(isOpen(p.read));
  Fd w(p.write);
}

TEST(Fd, AMovedFromFdClosesNothing) {
  Pipe p;
  Fd a(p.read);
  Fd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): what a move leaves is the point
  EXPECT_TRUE(isOpen(p.read));
  {
    Fd c;
    c = std::move(b);
    EXPECT_TRUE(isOpen(p.read));
  }
  EXPECT_FALSE(isOpen(p.read));
  Fd w(p.write);
}

TEST(Fd, AssigningClosesWhatWasHeld) {
  Pipe first;
  Pipe second;
  Fd a(first.read);
  a = Fd(second.read);
  EXPECT_FALSE(isOpen(first.read));
  EXPECT_TRUE(isOpen(second.read));
  a.reset();
  EXPECT_FALSE(isOpen(second.read));
  EXPECT_FALSE(a.valid());
  Fd w1(first.write);
  Fd w2(second.write);
}

TEST(Fd, ReleaseGivesItUpOpen) {
  Pipe p;
  int raw = -1;
  {
    Fd a(p.read);
    raw = a.release();
  }
  EXPECT_EQ(raw, p.read);
  EXPECT_TRUE(isOpen(raw));
  ::close(raw);
  ::close(p.write);
}

TEST(Fd, ADuplicateLeavesTheOriginalOpen) {
  Pipe p;
  {
    Fd copy = Fd::dupOf(p.write);
    ASSERT_TRUE(copy.valid());
    EXPECT_NE(copy.get(), p.write);
    EXPECT_NE(::fcntl(copy.get(), F_GETFD) & FD_CLOEXEC, 0);
  }
  EXPECT_TRUE(isOpen(p.write));
  ASSERT_EQ(::write(p.write, "x", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(p.read, &c, 1), 1);
  ::close(p.read);
  ::close(p.write);
}

TEST(Fd, ADuplicateOfNothingIsInvalid) {
  Pipe p;
  ::close(p.read);
  Fd copy = Fd::dupOf(p.read);
  EXPECT_FALSE(copy.valid());
  EXPECT_EQ(errno, EBADF);
  ::close(p.write);
}

TEST(File, AStreamOnADuplicateWritesThroughAndLeavesTheOriginalOpen) {
  Pipe p;
  {
    File f = openDuplicate(p.write);
    ASSERT_TRUE(f);
    ASSERT_GE(std::fputs("line\n", f.get()), 0);
  }  // fclose()d here: flushed
  EXPECT_TRUE(isOpen(p.write));
  char buf[8] = {};
  EXPECT_EQ(::read(p.read, buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf, 5), "line\n");
  ::close(p.read);
  ::close(p.write);
}

}  // namespace
}  // namespace bondcast
