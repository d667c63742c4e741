// SPDX-License-Identifier: MPL-2.0
// Shared by the input tests: stop() from another thread ends a reader blocked in
// read() promptly, once the input has delivered something.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "sender/input.h"

namespace bondcast::sender {

inline void expectStopEndsABlockedReaderWithin200ms(Input& input) {
  using namespace std::chrono_literals;
  std::promise<void> first_chunk;
  auto reader = std::async(std::launch::async, [&] {
    bool signalled = false;
    while (true) {
      auto chunk = input.read();
      if (!chunk.ok() || chunk->end)
        return;
      if (!signalled) {
        first_chunk.set_value();
        signalled = true;
      }
    }
  });
  first_chunk.get_future().wait();
  const auto stop_at = std::chrono::steady_clock::now();
  input.stop();
  ASSERT_EQ(reader.wait_for(2s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 200ms);
}

}  // namespace bondcast::sender
