// SPDX-License-Identifier: MPL-2.0
#include "scheduler/link_model.h"

#include <gtest/gtest.h>

#include <optional>

#include "fake_link.h"

namespace bondcast::sched {
namespace {

using namespace testing;
using std::chrono::milliseconds;

// Identical readings until the RTT variation has settled near zero.
void settle(LinkModel& link, const LinkFeedback& s, std::int64_t from_ms) {
  for (int i = 0; i < 40; ++i)
    link.onStats(s, at(from_ms + i));
}

LinkModel upLink(LinkModelTuning tuning = {}) {
  LinkModel link(0, LinkConfig{"a", 1.0}, tuning);
  EXPECT_EQ(link.setState(LinkState::kUp, at(0)), LinkModel::Transition::kRecovered);
  return link;
}

// The RTT's view of the queue alone. These readings hold copies past a base RTT without
// acknowledging any, which the recent delivery reads as a collapse of the capacity.
LinkModel upLinkRttView() {
  LinkModelTuning tuning;
  tuning.recent_delivery_window = Micros::zero();
  return upLink(tuning);
}

TEST(LinkState, HasReadableNames) {
  EXPECT_EQ(toString(LinkState::kConnecting), "connecting");
  EXPECT_EQ(toString(LinkState::kUp), "up");
  EXPECT_EQ(toString(LinkState::kStalled), "stalled");
  EXPECT_EQ(toString(LinkState::kDown), "down");
}

TEST(LinkModel, StartsConnectingWithLibsrtsDefaultRtt) {
  LinkModel link(3, LinkConfig{"x", 2.0});
  EXPECT_EQ(link.state(), LinkState::kConnecting);
  EXPECT_EQ(link.id(), 3u);
  EXPECT_EQ(link.srtt(), milliseconds(100));
  EXPECT_FALSE(link.isMeasured());
}

TEST(LinkModel, OneWayDelayIsHalfTheBaseRttNotTheQueuedOne) {
  LinkModel link = upLink();
  link.onStats(healthyStats(40, 10e6), at(10));
  link.onStats(healthyStats(120, 10e6), at(20));  // a queue built up
  EXPECT_EQ(link.srtt(), milliseconds(120));
  EXPECT_EQ(link.minRtt(), milliseconds(40));
  EXPECT_EQ(link.oneWayDelay(), milliseconds(20));
  EXPECT_GT(link.rttVar(), milliseconds(0));
}

TEST(LinkModel, CopiesSentBuildAVirtualQueueThatDrainsAtCapacity) {
  LinkModel link = upLink();
  link.onStats(healthyStats(20, 8e6), at(0));
  for (int i = 0; i < 10; ++i)
    link.onSent(1000, at(0));  // 10 kB at 8 Mbit/s = 10 ms
  EXPECT_NEAR(link.queueDelay(at(0)).count(), 10'000, 100);
  EXPECT_NEAR(link.queueDelay(at(5)).count(), 5'000, 100);
  EXPECT_EQ(link.queueDelay(at(20)).count(), 0);
  EXPECT_EQ(link.expectedArrival(1000, at(20)), at(20) + milliseconds(1) + milliseconds(10));
}

TEST(LinkModel, TheRttExcessIsTheQueueAsItWasAOneWayDelayAgo) {
  LinkModel link = upLinkRttView();
  settle(link, healthyStats(40, 8e6), 0);
  // A steady 140 ms against a 40 ms base, less SRT's 10 ms ACK period: 90 ms of queue,
  // measured 20 ms (one way) ago and drained at capacity since.
  settle(link, healthyStats(140, 8e6, 5), 100);
  EXPECT_NEAR(link.queueDelay(at(139)).count(), 70'000, 1'000);
  EXPECT_NEAR(link.queueDelay(at(149)).count(), 60'000, 1'000);
  EXPECT_EQ(link.queueDelay(at(210)).count(), 0);
}

// libsrt's RTT trails its samples while a queue grows or drains; the model reads the
// queue from where the RTT is heading (its slope over 20 ms, continued for 50 ms).
TEST(LinkModel, AMovingRttIsReadAlongItsTrend) {
  LinkModel rising = upLinkRttView();
  settle(rising, healthyStats(40, 8e6), 0);
  for (int i = 0; i < 3; ++i) {
    rising.onStats(healthyStats(60 + 10 * i, 8e6, 5), at(100 + 10 * i));
  }
  // 80 ms rising 1 ms per ms: 130 ms, 80 ms of queue a one-way delay ago; 60 ms now.
  EXPECT_NEAR(rising.queueDelay(at(120)).count(), 60'000, 2'000);

  LinkModel falling = upLinkRttView();
  settle(falling, healthyStats(40, 8e6), 0);
  for (int i = 0; i < 3; ++i) {
    falling.onStats(healthyStats(120 - 10 * i, 8e6, 5), at(100 + 10 * i));
  }
  // 100 ms falling 1 ms per ms: heading for 50 ms, no queue left (30 ms if read as is).
  EXPECT_EQ(falling.queueDelay(at(120)).count(), 0);
}

TEST(LinkModel, CopiesSentSinceTheRttMeasuredTheQueueAddToIt) {
  LinkModel link = upLinkRttView();
  settle(link, healthyStats(40, 10e6), 0);
  for (int i = 0; i < 20; ++i)
    link.onSent(1316, at(100));
  // 100 ms later the RTT has seen those copies (and no queue): they are not counted again.
  link.onStats(healthyStats(40, 10e6, 20), at(200));
  EXPECT_EQ(link.queueDelay(at(200)).count(), 0);
  for (int i = 0; i < 10; ++i)
    link.onSent(1316, at(200));
  // 2 ms later the RTT cannot have seen these: 13 kB at 10 Mbit/s (10.5 ms), 2 ms of
  // it drained.
  link.onStats(healthyStats(40, 10e6, 30), at(202));
  EXPECT_NEAR(link.queueDelay(at(202)).count(), 8'500, 500);
}

TEST(LinkModel, AnInflatedRttIsAQueueEvenWhenTheSendBufferForgotIt) {
  // The sender dropped its too-late copies (empty send buffer) but the RTT says they
  // still queue 300 ms ahead, as of 50 ms (one way) before it moved. With nothing held
  // no ACK can move it (no trend is read into it), so that queue drains in real time.
  LinkModel link = upLink();
  settle(link, healthyStats(100, 8e6), 0);
  link.onStats(healthyStats(410, 8e6), at(100));
  EXPECT_NEAR(link.queueDelay(at(100)).count(), 250'000, 1'000);
  link.onStats(healthyStats(410, 8e6), at(200));  // frozen: no ACK moved it
  EXPECT_NEAR(link.queueDelay(at(200)).count(), 150'000, 1'000);
  EXPECT_EQ(link.queueDelay(at(400)).count(), 0);
}

TEST(LinkModel, AReadingReplaysTheCopiesSentSinceTheRttMeasuredTheQueue) {
  LinkModel link = upLink();
  for (int i = 0; i < 100; ++i)
    link.onSent(1316, at(0));
  // 100 packets held; the 40 ms RTT saw no queue, but it predates them: 132 kB queue
  // at 10 Mbit/s.
  LinkFeedback s = healthyStats(40, 10e6, 100);
  link.onStats(s, at(0));
  EXPECT_NEAR(link.queueDelay(at(0)).count(), 105'000, 1'000);
  EXPECT_EQ(link.unackedPackets(), 100u);
  EXPECT_EQ(link.ackedBelow(), 0u);
}

TEST(LinkModel, AGrowingSendBufferStallsTheLinkAndProgressRecoversIt) {
  LinkModel link = upLink();
  for (int i = 0; i < 20; ++i)
    link.onSent(1316, at(0));
  LinkFeedback s = healthyStats(40, 10e6, 10);
  settle(link, s, -40);
  EXPECT_EQ(link.onStats(s, at(10)), LinkModel::Transition::kNone);
  EXPECT_EQ(link.ackedBelow(), 10u);
  // Dead link: RTT frozen, loss 0, the buffer only ages.
  s.send_buffer_packets = 20;
  s.send_buffer_time = milliseconds(90);
  EXPECT_EQ(link.onStats(s, at(60)), LinkModel::Transition::kNone);
  EXPECT_TRUE(link.isSuspect(at(60)));
  s.send_buffer_time = milliseconds(140);
  EXPECT_EQ(link.onStats(s, at(110)), LinkModel::Transition::kFailed);
  EXPECT_EQ(link.state(), LinkState::kStalled);
  s.send_buffer_packets = 5;  // acknowledgements move again
  s.send_buffer_time = milliseconds(30);
  EXPECT_EQ(link.onStats(s, at(200)), LinkModel::Transition::kRecovered);
  EXPECT_TRUE(link.isUp());
  EXPECT_EQ(link.ackedBelow(), 15u);
}

TEST(LinkModel, ALinkWhoseAcknowledgementsStopIsSilentBeforeItLooksStalled) {
  LinkModel link = upLink();
  settle(link, healthyStats(40, 10e6), -100);  // base RTT 40 ms, nothing held
  for (int i = 0; i < 20; ++i) {
    link.onSent(1316, at(0));
  }
  // libsrt's msSndBuf is the span of what the buffer holds: all sent at once, 0, and it
  // does not grow while nothing more is sent. The copies' age comes from the send times.
  LinkFeedback s = healthyStats(40, 10e6, 15);
  s.send_buffer_time = milliseconds(0);
  // A reading at 10 ms acknowledges 5 copies; the oldest left is due after the 40 ms
  // base RTT and two ACK periods, at 60 ms of age.
  link.onStats(s, at(10));
  EXPECT_EQ(link.silentFor(at(15)), Micros::zero());
  link.onStats(s, at(30));  // nothing acknowledged since
  EXPECT_EQ(link.silentFor(at(60)), Micros::zero());
  EXPECT_EQ(link.silentFor(at(70)), milliseconds(10));  // overdue by 10 ms
  link.onStats(s, at(90));
  EXPECT_EQ(link.silentFor(at(100)), milliseconds(40));  // ... and silence goes on
  EXPECT_TRUE(link.isUp());    // not stalled: that needs two RTTs and more
  s.send_buffer_packets = 12;  // acknowledgements move again
  s.send_buffer_bytes = 12 * 1316;
  link.onStats(s, at(110));
  EXPECT_EQ(link.silentFor(at(110)), Micros::zero());
  s.send_buffer_packets = 0;  // nothing held: nothing to wait for
  s.send_buffer_bytes = 0;
  link.onStats(s, at(200));
  EXPECT_EQ(link.silentFor(at(300)), Micros::zero());
}

TEST(LinkModel, ARecentLossIsCountedAndShowsInTheLossRate) {
  LinkModel link = upLink();
  for (int i = 0; i < 20; ++i)
    link.onSent(1316, at(0));
  LinkFeedback s = healthyStats(40, 10e6, 20);
  settle(link, s, -40);
  s.lost_packets_total = 1;
  link.onStats(s, at(20));
  EXPECT_EQ(link.lastLostPackets(), 1u);
  EXPECT_GT(link.lossRate(), 0.0);
  EXPECT_TRUE(link.lostRecently(at(20)));
}

// A settled 40 ms, 10 Mbit/s link that sent 100 copies over 100 ms and holds them all;
// returns the reading that says so.
LinkFeedback holdHundredCopies(LinkModel& link) {
  settle(link, healthyStats(40, 10e6), -100);
  for (int i = 0; i < 100; ++i) {
    link.onSent(1316, at(i));
  }
  LinkFeedback s = healthyStats(40, 10e6, 100);
  s.send_buffer_time = milliseconds(99);
  return s;
}

// A link is stalled by silence, not by an old copy: one that still acknowledges stays up
// however long its queue, one whose acknowledgements stop is stalled one RTT (and its
// variation, and a margin) after its oldest copy was due.
TEST(LinkModel, StallsBySilenceNotByAnOldCopy) {
  LinkModel link = upLink();
  LinkFeedback s = holdHundredCopies(link);
  // Acknowledgements keep coming, one copy every 10 ms: a queue, the link is up.
  for (int t = 100; t <= 400; t += 10) {
    s.send_buffer_packets -= 1;
    s.send_buffer_bytes = s.send_buffer_packets * 1316;
    EXPECT_EQ(link.onStats(s, at(t)), LinkModel::Transition::kNone) << "at " << t << " ms";
  }
  EXPECT_TRUE(link.isUp());
  EXPECT_GT(link.oldestHeldAge(at(400)), milliseconds(300));
  // Then nothing more is acknowledged: stalled once silent for more than the threshold.
  const Micros threshold = link.stallThreshold(at(400));
  EXPECT_LT(threshold, milliseconds(100));
  LinkModel::Transition failed = LinkModel::Transition::kNone;
  int t = 410;
  for (; t <= 700 && failed == LinkModel::Transition::kNone; t += 10) {
    failed = link.onStats(s, at(t));
  }
  EXPECT_EQ(failed, LinkModel::Transition::kFailed);
  EXPECT_EQ(link.state(), LinkState::kStalled);
  EXPECT_GE(milliseconds(t - 10 - 400), threshold) << "stalled before the threshold";
  EXPECT_LE(milliseconds(t - 10 - 400), threshold + milliseconds(20));
}

// SRT acknowledges up to the first gap: while a lost copy's repair crosses a queue the
// acknowledgements stand still, but the loss reports show that the receiver hears the
// link. The same silence without them stalls it (as above).
TEST(LinkModel, ALossReportIsNotSilence) {
  for (const bool reports : {true, false}) {
    LinkModel link = upLink();
    LinkFeedback s = holdHundredCopies(link);
    bool stalled = false;
    for (int t = 100; t <= 400; t += 10) {
      if (reports && t % 50 == 0)
        ++s.lost_packets_total;  // the receiver's periodic loss report
      stalled = stalled || link.onStats(s, at(t)) == LinkModel::Transition::kFailed;
    }
    EXPECT_EQ(stalled, !reports) << (reports ? "with" : "without") << " loss reports";
  }
}

// A 120 ms link (the demo's cell-B) goes dark holding 20 copies it sent at once, its own
// queue drained 21 ms later. Returns when it was stalled, in ms after the copies left (0:
// not by 600 ms). `reports`: the feedback's loss-report count, if it has one; while
// `repairing`, the receiver's loss reports keep coming every 50 ms.
int stalledAfterGoingDark(std::optional<std::uint64_t> reports, bool repairing = false) {
  LinkModel link = upLink();
  LinkFeedback s = healthyStats(120, 10e6);
  s.nak_reports_total = reports;
  settle(link, s, -200);
  for (int i = 0; i < 20; ++i) {
    link.onSent(1316, at(0));
  }
  s.send_buffer_packets = 20;
  s.send_buffer_bytes = 20 * 1316ULL;
  s.flight_packets = 20;
  for (int t = 10; t <= 600; t += 10) {
    if (repairing && t % 50 == 0) {
      ++*s.nak_reports_total;
    }
    if (link.onStats(s, at(t)) == LinkModel::Transition::kFailed) {
      return t;
    }
  }
  return 0;
}

// Its oldest copy is due at 140 ms (base RTT and two ACK periods). Where the feedback
// counts loss reports, nothing heard for one loss-report interval (half its 120 ms RTT) and
// the 30 ms margin more stalls it, half a round trip sooner than the usual threshold (RTT,
// its variation and the margin: 150 ms), which feedback without the count keeps. A link
// that keeps reporting a loss is repairing it and stays up.
TEST(LinkModel, ALinkHeardFromNoMoreWithItsQueueDrainedIsStalledAfterALossReportInterval) {
  const int counted = stalledAfterGoingDark(0);
  EXPECT_GE(counted, 140 + 60 + 30) << "stalled before the loss-report interval and margin";
  EXPECT_LE(counted, 140 + 60 + 30 + 20);
  const int uncounted = stalledAfterGoingDark(std::nullopt);
  EXPECT_GE(uncounted, 140 + 150);
  EXPECT_LE(uncounted, 140 + 150 + 20);
  EXPECT_EQ(stalledAfterGoingDark(0, true), 0) << "a link reporting a loss was stalled";
}

// A queue explains a silence: a link whose RTT showed 100 ms of queue when it went quiet
// (220 ms against its base 120 ms) keeps the usual threshold, and is stalled later than
// the drained one above.
TEST(LinkModel, ALinkWhoseRttShowsAQueueWaitsTheUsualThreshold) {
  LinkModel link = upLink();
  LinkFeedback s = healthyStats(120, 10e6);
  s.nak_reports_total = 0;
  settle(link, s, -200);
  for (int i = 0; i < 20; ++i) {
    link.onSent(1316, at(0));
  }
  s.rtt = milliseconds(220);
  s.send_buffer_packets = 20;
  s.send_buffer_bytes = 20 * 1316ULL;
  s.flight_packets = 20;
  int t = 10;
  for (; t <= 600; t += 10) {
    if (link.onStats(s, at(t)) == LinkModel::Transition::kFailed) {
      break;
    }
  }
  EXPECT_GT(t, 140 + 60 + 30 + 20);
  EXPECT_GE(milliseconds(t - 140), link.stallThreshold(at(t))) << "stalled before its threshold";
  EXPECT_LE(t, 600) << "never stalled";
}

// libsrt's totals are per connection. After a reconnect they start again from 0, and
// what the new connection counts is seen from its first loss, not once its totals pass the
// old connection's.
TEST(LinkModel, TotalsThatStartAgainAreANewConnectionsCountedFromZero) {
  LinkModel link = upLink();
  LinkFeedback s = healthyStats(40, 10e6);
  s.lost_packets_total = 50;
  s.nak_reports_total = 80;
  settle(link, s, -100);
  EXPECT_EQ(link.setState(LinkState::kDown, at(0)), LinkModel::Transition::kFailed);
  EXPECT_EQ(link.setState(LinkState::kUp, at(1000)), LinkModel::Transition::kRecovered);
  s.lost_packets_total = 0;
  s.nak_reports_total = 0;
  link.onStats(s, at(1010));
  EXPECT_EQ(link.lastLostPackets(), 0u);
  s.lost_packets_total = 2;
  link.onStats(s, at(1020));
  EXPECT_EQ(link.lastLostPackets(), 2u);
  EXPECT_TRUE(link.lostRecently(at(1020)));
}

TEST(LinkModel, CallerStatesOverrideAndReportTransitions) {
  LinkModel link = upLink();
  EXPECT_EQ(link.setState(LinkState::kDown, at(5)), LinkModel::Transition::kFailed);
  EXPECT_FALSE(link.isConnected());
  EXPECT_EQ(link.setState(LinkState::kConnecting, at(6)), LinkModel::Transition::kNone);
  EXPECT_EQ(link.setState(LinkState::kUp, at(7)), LinkModel::Transition::kRecovered);
}

TEST(LinkModel, ARefusedSendIsForgotten) {
  LinkModel link = upLink();
  link.onSent(1316, at(0));
  link.onSendFailed(1316, at(0));
  EXPECT_EQ(link.sentPackets(), 0u);
  EXPECT_EQ(link.unackedBytes(), 0u);
  EXPECT_EQ(link.queueDelay(at(0)).count(), 0);
  link.onStats(healthyStats(40, 10e6), at(5));  // the replay skips it too
  EXPECT_EQ(link.queueDelay(at(5)).count(), 0);
}

TEST(LinkModel, HeldCopiesFurtherBackArriveLater) {
  LinkModel link = upLink();
  for (int i = 0; i < 200; ++i)
    link.onSent(1316, at(0));
  link.onStats(healthyStats(40, 5e6, 200), at(0));
  EXPECT_LT(link.expectedArrivalOfHeld(10, at(0)), link.expectedArrivalOfHeld(150, at(0)));
  EXPECT_EQ(link.expectedArrivalOfHeld(0, at(0)), at(0) + milliseconds(20));
}

// A loaded link whose capacity falls from 10 to 1 Mbit/s (a throttled cellular uplink):
// within one recent_delivery_window its capacity reads what it now delivers, while the
// delivery rate's average still believes most of the old capacity.
TEST(LinkModel, ASaturatedLinkShowsACollapseWithinOneWindow) {
  LinkModel link = upLink();
  settle(link, healthyStats(20, 10e6), -100);
  for (int i = 0; i < 60; ++i)
    link.onSent(1316, at(0));
  LinkFeedback s = healthyStats(20, 10e6, 60);
  for (std::int64_t t = 10; t <= 120; t += 10) {
    s.send_buffer_packets -= 1;  // one copy acknowledged per 10 ms: 1.05 Mbit/s
    s.send_buffer_bytes -= 1316;
    s.send_buffer_time = milliseconds(t);
    link.onStats(s, at(t));
  }
  ASSERT_TRUE(link.isSaturated());
  EXPECT_LT(link.bandwidthBps(), 1.5e6);
  EXPECT_GT(link.bandwidthBps(), 0.7e6);
  EXPECT_GT(link.deliveryRateBps(), 5e6);
  // The copies further back are now expected long after the 10 Mbit/s estimate said.
  EXPECT_GT(link.expectedArrivalOfHeld(59, at(120)), at(400));
}

}  // namespace
}  // namespace bondcast::sched
