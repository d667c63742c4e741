// SPDX-License-Identifier: MPL-2.0
// A libsrt listener on 127.0.0.1 and a port of the system's choosing, for connections or
// group connections, for the tests of libsrt (tests/common/srt).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

#include "common/srt/srt.h"

namespace bondcast::test {

// Binds `listener` to 127.0.0.1 and a port of the system's choosing and listens with
// `backlog` (options the caller set before stay); returns where callers connect. Fails the
// test (fatally: call it in ASSERT_NO_FATAL_FAILURE) when any step does.
inline void listenOnLoopback(SRTSOCKET listener, int backlog, std::optional<srt::SockAddr>& to) {
  auto any = srt::resolve("127.0.0.1", 0, true);
  ASSERT_TRUE(any);
  auto bound = srt::bindSrt(listener, *any);
  ASSERT_TRUE(bound) << bound.error().message;
  ASSERT_NE(srt_listen(listener, backlog), SRT_ERROR) << srt_getlasterror_str();
  auto addr = srt::resolve("127.0.0.1", srt::boundPort(listener), false);
  ASSERT_TRUE(addr);
  to = *addr;
}

// The same for group connections: sets SRTO_GROUPCONNECT on `listener` first.
inline void listenForGroups(SRTSOCKET listener, int backlog, std::optional<srt::SockAddr>& to) {
  const int yes = 1;
  ASSERT_NE(srt_setsockflag(listener, SRTO_GROUPCONNECT, &yes, sizeof yes), SRT_ERROR);
  listenOnLoopback(listener, backlog, to);
}

// A backup group of one member of `weight`, connected to `to` (where `listener` listens for
// groups), and the listener's side of it: `sender` and `receiver`. Fails the test
// (fatally) when either end does not come up.
inline void connectBackupGroup(SRTSOCKET listener, const srt::SockAddr& to, std::uint16_t weight,
                               srt::Socket& sender, srt::Socket& receiver) {
  sender.reset(srt_create_group(SRT_GTYPE_BACKUP));
  ASSERT_TRUE(sender.valid()) << srt_getlasterror_str();
  SRT_SOCKGROUPCONFIG first = srt_prepare_endpoint(nullptr, to.get(), to.len);
  first.weight = weight;
  ASSERT_NE(srt_connect_group(sender.get(), &first, 1), SRT_ERROR) << srt_getlasterror_str();
  receiver.reset(srt_accept(listener, nullptr, nullptr));
  ASSERT_TRUE(receiver.valid()) << srt_getlasterror_str();
}

}  // namespace bondcast::test
