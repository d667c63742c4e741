// SPDX-License-Identifier: MPL-2.0
// How each adaptive-mode link's SRT connection holds, drops and re-sends, at both ends:
// one place for the sender, the receiver and the tests (docs/playout.md has the
// measurements behind each setting).
//
// The receiver's playout clock is the only clock: it plays each payload out at its own
// moment and drops what comes later. So a link
// - delivers each message as soon as it arrives: TSBPD off, no time base of its own
//   (which would hold every payload on a slower link past its playout time and drift
//   with no tracer to follow it);
// - in any order: a message lost and being repaired holds up none behind it;
// - gives each copy a TTL, the last moment it may leave and still arrive by its deadline:
//   libsrt neither sends nor re-sends it after that, and asks the receiver to drop it
//   (a copy re-sent on another link after a failure is governed by the same deadline);
//   so a congested link never carries stale copies, and nothing else drops: libsrt's own
//   too-late drop on the sender (which tells the receiver nothing, and with TSBPD off the
//   receiver never skips a hole by itself) is off;
// - and the receiver announces no too-late drop of its own (it has none with TSBPD off):
//   announced, libsrt's sender re-sends a lost packet, or asks for its drop, only while no
//   new one waits, and once the flow window is full behind the hole, nothing moves again.
// - leaves pacing to the scheduler, which decides what each link carries: libsrt's
//   live-mode default caps a connection at 1 Gbit/s, which spaces a burst's packets about
//   10 us apart, and libsrt's send thread sleeps through each gap (a thread switch per
//   packet: on a virtual machine the dearest part of sending one). The cap is 10 Gbit/s.
// patches/libsrt/0003 makes a drop request drop the missing packets too (libsrt 1.5.1
// dropped only those it had, leaving the hole for good).
// patches/libsrt/0011 keeps a link moving when messages whose TTL passed before their first
// send are skipped: the sender asks the receiver to drop them at once, asks again for the
// rest at each acknowledgement that stops inside them (a skip past the end of the
// receiver's buffer cannot be marked there), and re-sends or drop-requests what is
// unacknowledged while the skipped numbers fill its flow window; a drop request that
// arrives ahead of the receiver's sequence no longer leaves an unreportable hole.
// patches/libsrt/0009 makes a message that arrives behind a lost one readable through epoll
// at once (libsrt 1.5.1 raised the read-ready event only when an ACK moved, so an epoll
// reader saw it only after the loss was repaired: in effect, in order).
#pragma once

#include <srt/srt.h>

#include <chrono>
#include <cstdint>

#include "common/result.h"

namespace bondcast::srt {

// libsrt's pacing rate of an adaptive link, bytes/s (SRTO_MAXBW): 10 Gbit/s, no pacing.
inline constexpr std::int64_t kAdaptiveLinkMaxBandwidth = 1'250'000'000;

// The sender's socket, before srt_connect.
Status applyAdaptiveLinkSenderOptions(SRTSOCKET s);
// The receiver's socket of an adaptive link: in the listen callback (before the
// handshake's answer is built), since the listener also takes group members that keep
// libsrt's defaults.
Status applyAdaptiveLinkReceiverOptions(SRTSOCKET s);
// The message control of a copy sent on an adaptive link: `ttl` is how long after its
// srctime it may still leave (at least 1 ms).
SRT_MSGCTRL adaptiveMessageControl(std::chrono::milliseconds ttl);

}  // namespace bondcast::srt
