// How each adaptive-mode link's SRT connection holds, drops and re-sends, at both ends:
// one place for the sender, the receiver and the tests (docs/playout.md has the
// measurements behind each setting).
//
// The receiver's playout clock is the only clock: it plays each payload out at its own
// moment and drops what comes later. So a link delivers each message as soon as it
// arrives (TSBPD off: no time base of its own, which would hold every payload on a
// slower link past its playout time and drift with no tracer to follow it), in any order
// (a message lost and being repaired holds up none behind it), and drops nothing: libsrt
// 1.5.1 with TSBPD off has no receiver-side drop, so any sender-side drop (its too-late
// drop, a message TTL) can leave a hole nothing skips. And the receiver does not announce
// a too-late drop it will not do (SRTO_TLPKTDROP off): announced, libsrt's sender re-sends
// a lost packet only while no new one waits to go out (isRetransmissionAllowed), so once
// the flow window is full behind an unrepaired hole the link stops for good. What is too
// late to matter is the scheduler's business (it neither sends nor re-sends elsewhere
// what cannot make its deadline) and the receiver's (it drops what comes after its
// playout time).
#pragma once

#include <srt/srt.h>

#include "common/result.h"

namespace bondcast::srt {

// The sender's socket, before srt_connect.
Status applyAdaptiveLinkSenderOptions(SRTSOCKET s);
// The receiver's socket of an adaptive link: in the listen callback (before the
// handshake's answer is built), since the listener also takes group members that keep
// libsrt's defaults.
Status applyAdaptiveLinkReceiverOptions(SRTSOCKET s);
// The message control of every message sent on an adaptive link.
SRT_MSGCTRL adaptiveMessageControl();

}  // namespace bondcast::srt
