// SPDX-License-Identifier: MPL-2.0
#include "common/srt/adaptive_link.h"

#include <algorithm>

#include "common/srt/srt.h"

namespace bondcast::srt {

Status applyAdaptiveLinkSenderOptions(SRTSOCKET s) {
  const bool no = false;
  if (auto st = setOption(s, SRTO_TSBPDMODE, no, "TSBPD off"); !st) {
    return st;
  }
  const int never = -1;
  if (auto st = setOption(s, SRTO_SNDDROPDELAY, never, "sender drop off"); !st) {
    return st;
  }
  return setOption(s, SRTO_MAXBW, kAdaptiveLinkMaxBandwidth, "pacing rate");
}

Status applyAdaptiveLinkReceiverOptions(SRTSOCKET s) {
  const bool no = false;
  return setOption(s, SRTO_TLPKTDROP, no, "too-late drop off");
}

SRT_MSGCTRL adaptiveMessageControl(std::chrono::milliseconds ttl) {
  SRT_MSGCTRL mc = srt_msgctrl_default;
  mc.inorder = 0;
  mc.msgttl = static_cast<int>(std::max<std::int64_t>(1, ttl.count()));
  return mc;
}

}  // namespace bondcast::srt
