// SPDX-License-Identifier: MPL-2.0
// common/srt/srt.h: libsrt's error texts from several threads at once.
#include "common/srt/srt.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace bondcast::srt {
namespace {

// srt_strerror() formats into one static object for the whole process; the group sender
// asks for texts from libsrt's receive workers, two of which may report failures at once.
// ThreadSanitizer found the race (tools/run test --sanitize thread); without the lock the
// threads here also read each other's text or a freed one.
TEST(ErrorText, ThreadsAskingAtOnceEachGetTheirOwnCodesText) {
  const std::array<int, 4> codes = {SRT_ECONNREJ, SRT_ECONNLOST, SRT_ENOCONN, SRT_ETIMEOUT};
  std::vector<std::string> expected;
  for (int code : codes) {
    expected.push_back(errorText(code));
    ASSERT_FALSE(expected.back().empty());
  }
  ASSERT_NE(expected[0], expected[1]);
  constexpr int kRounds = 20000;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < codes.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        if (errorText(codes[t]) != expected[t])
          ++wrong;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace bondcast::srt
