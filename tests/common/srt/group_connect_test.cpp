// SPDX-License-Identifier: MPL-2.0
// A group member whose handshake completes before srt_connect_group() returns is used
// (patches/libsrt/0008). libsrt 1.5.1's groupConnect() starts a member's handshake, then
// marks the member PENDING; on loopback the receive thread can finish the handshake in
// between and set the member IDLE (ready), and the late PENDING overwrote that. Such a
// member stays connected, keepalives flowing, but a broadcast or backup group never sends
// over it: every srt_sendmsg2 fails with "Connection was broken". It cost a CI run: a
// broadcast sender into an SRTLA relay on a busy machine sent nothing for its whole input
// (tests/e2e/srtla_test.cpp, the reference sender's test).
//
// Once srt_connect_group() has returned, its write is done: a member whose own socket is
// connected must then be IDLE or RUNNING in the group, never PENDING. The race needs the
// receive thread to win, so the test connects many groups while another thread keeps the
// group's lock busy (which delays the connecting thread). Without the patch 5, 18, 12 and
// 14 of its 1500 connections were left PENDING (four runs, about 16 s each); with it none
// in three runs.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/srt/srt.h"
#include "tests/support/group_listener.h"

namespace bondcast::srt {
namespace {

using Clock = std::chrono::steady_clock;

// The group state of member `id` of `group` once the member's own socket is connected
// (waits up to 2 s), or nullopt when it never connected.
std::optional<SRT_MEMBERSTATUS> stateOnceConnected(SRTSOCKET group, SRTSOCKET id) {
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < deadline) {
    if (srt_getsockstate(id) == SRTS_CONNECTED) {
      std::array<SRT_SOCKGROUPDATA, 4> data{};
      std::size_t n = data.size();
      if (srt_group_data(group, data.data(), &n) == SRT_ERROR || n != 1)
        return std::nullopt;
      return data[0].memberstate;
    }
    std::this_thread::yield();
  }
  return std::nullopt;
}

TEST(GroupConnect, AMemberConnectedBeforeSrtConnectGroupReturnsIsNotLeftPending) {
  Runtime runtime;
  Socket listener(srt_create_socket());
  std::optional<SockAddr> to;
  ASSERT_NO_FATAL_FAILURE(test::listenForGroups(listener.get(), 64, to));

  // Accepts the listener's side of every group and keeps the last few open (closing one
  // at once would break the caller's member before the test looks at it); closing the
  // listener ends it.
  std::thread acceptor([&] {
    std::deque<Socket> open;
    for (;;) {
      sockaddr_storage from{};
      int len = sizeof from;
      const SRTSOCKET accepted =
          srt_accept(listener.get(), reinterpret_cast<sockaddr*>(&from), &len);
      if (accepted == SRT_INVALID_SOCK)
        return;
      open.emplace_back(accepted);
      if (open.size() > 8)
        open.pop_front();
    }
  });

  constexpr int kGroups = 1500;
  constexpr auto kBound = std::chrono::seconds(60);
  int connected = 0;
  std::vector<std::string> pending;
  const auto start = Clock::now();
  for (int i = 0; i < kGroups && Clock::now() - start < kBound; ++i) {
    const SRTSOCKET group = srt_create_group(SRT_GTYPE_BROADCAST);
    ASSERT_NE(group, SRT_INVALID_SOCK) << srt_getlasterror_str();
    const bool no = false;
    srt_setsockflag(group, SRTO_RCVSYN, &no, sizeof no);  // non-blocking connect, as senders do
    // A thread that keeps taking the group's lock (srt_group_data locks it) while the
    // member connects.
    std::atomic<bool> connecting{true};
    std::thread busy([&] {
      std::array<SRT_SOCKGROUPDATA, 4> data{};
      while (connecting) {
        std::size_t n = data.size();
        srt_group_data(group, data.data(), &n);
      }
    });
    SRT_SOCKGROUPCONFIG cfg = srt_prepare_endpoint(nullptr, to->get(), to->len);
    const int rc = srt_connect_group(group, &cfg, 1);
    std::optional<SRT_MEMBERSTATUS> state;
    if (rc != SRT_ERROR)
      state = stateOnceConnected(group, cfg.id);
    connecting = false;
    busy.join();
    if (state) {
      ++connected;
      if (*state == SRT_GST_PENDING)
        pending.push_back("connection " + std::to_string(i));
    }
    srt_close(group);
  }
  listener.reset();
  acceptor.join();

  // Nearly every connection must connect for the check to mean anything.
  EXPECT_GE(connected, 500) << "too few group connections connected to test the race";
  EXPECT_TRUE(pending.empty()) << pending.size() << " of " << connected
                               << " connected members were left PENDING (never sent over), "
                                  "the first: "
                               << pending.front();
}

}  // namespace
}  // namespace bondcast::srt
