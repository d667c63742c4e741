// SPDX-License-Identifier: MPL-2.0
// A libsrt listener that takes group connections, on 127.0.0.1 and a port of the
// system's choosing, for the tests of libsrt's groups (tests/common/srt).
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "common/srt/srt.h"

namespace bondcast::test {

// Sets SRTO_GROUPCONNECT on `listener` (options the caller set before stay), binds it and
// listens with `backlog`; returns where callers connect. Fails the test (fatally: call it
// in ASSERT_NO_FATAL_FAILURE) when any step does.
inline void listenForGroups(SRTSOCKET listener, int backlog, std::optional<srt::SockAddr>& to) {
  const int yes = 1;
  ASSERT_NE(srt_setsockflag(listener, SRTO_GROUPCONNECT, &yes, sizeof yes), SRT_ERROR);
  auto any = srt::resolve("127.0.0.1", 0, true);
  ASSERT_TRUE(any);
  ASSERT_NE(srt_bind(listener, any->get(), any->len), SRT_ERROR) << srt_getlasterror_str();
  ASSERT_NE(srt_listen(listener, backlog), SRT_ERROR) << srt_getlasterror_str();
  auto addr = srt::resolve("127.0.0.1", srt::boundPort(listener), false);
  ASSERT_TRUE(addr);
  to = *addr;
}

}  // namespace bondcast::test
