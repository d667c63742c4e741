// SPDX-License-Identifier: MPL-2.0
// The network models' loss decisions (the simulator's and the emulator's) against their
// expected long-run rates, with bounds from the sample
// size (5 standard deviations: a false failure about once in 3.5 million runs).
#include "common/netmodel/loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace bondcast::net {
namespace {

constexpr int kSamples = 1'000'000;

LossSpec bernoulli(double p) {
  LossSpec l;
  l.kind = LossSpec::Kind::kBernoulli;
  l.p_loss = p;
  return l;
}

LossSpec gilbertElliott(double p, double r, double loss_bad, double loss_good) {
  LossSpec l;
  l.kind = LossSpec::Kind::kGilbertElliott;
  l.p_good_bad = p;
  l.p_bad_good = r;
  l.loss_bad = loss_bad;
  l.loss_good = loss_good;
  return l;
}

double lossRate(const LossSpec& spec, std::uint64_t seed) {
  LossModel m(spec);
  Rng rng(seed);
  int lost = 0;
  for (int i = 0; i < kSamples; ++i)
    lost += m.lose(rng);
  return static_cast<double>(lost) / kSamples;
}

TEST(LossModel, BernoulliRateWithinFiveSigma) {
  for (double p : {0.005, 0.1, 0.5}) {
    double sigma = std::sqrt(p * (1 - p) / kSamples);
    double got = lossRate(bernoulli(p), 11);
    std::printf("bernoulli p=%.4f: %.5f over %d (5 sigma %.5f)\n", p, got, kSamples, 5 * sigma);
    EXPECT_NEAR(got, p, 5 * sigma) << "p=" << p;
  }
}

TEST(LossModel, NoLossNeverDrops) {
  EXPECT_EQ(lossRate(LossSpec{}, 1), 0.0);
}

// Standard deviation of the sample mean of a Gilbert-Elliott chain's loss indicator:
// the state indicator has lag-k correlation lambda^k (lambda = 1 - p - r), which
// inflates the variance by (1 + lambda) / (1 - lambda); the per-state coin adds its own.
double gilbertElliottSigma(const LossSpec& s, int n) {
  double pi_bad = s.p_good_bad / (s.p_good_bad + s.p_bad_good);
  double lambda = 1 - s.p_good_bad - s.p_bad_good;
  double state_var = (s.loss_bad - s.loss_good) * (s.loss_bad - s.loss_good) * pi_bad *
                     (1 - pi_bad) * (1 + lambda) / (1 - lambda);
  double coin_var =
      pi_bad * s.loss_bad * (1 - s.loss_bad) + (1 - pi_bad) * s.loss_good * (1 - s.loss_good);
  return std::sqrt((state_var + coin_var) / n);
}

TEST(LossModel, GilbertElliottRateWithinFiveSigma) {
  for (const LossSpec& s :
       {gilbertElliott(0.01, 0.3, 1.0, 0.0), gilbertElliott(0.05, 0.2, 0.5, 0.01),
        gilbertElliott(0.001, 0.1, 0.8, 0.001)}) {
    double expected = s.meanLoss();
    double got = lossRate(s, 5);
    std::printf("gilbert-elliott p=%g r=%g lb=%g lg=%g: %.5f, expected %.5f (5 sigma %.5f)\n",
                s.p_good_bad, s.p_bad_good, s.loss_bad, s.loss_good, got, expected,
                5 * gilbertElliottSigma(s, kSamples));
    EXPECT_NEAR(got, expected, 5 * gilbertElliottSigma(s, kSamples))
        << "p=" << s.p_good_bad << " r=" << s.p_bad_good;
  }
}

TEST(LossModel, GilbertElliottLosesInBurstsOfMeanLengthOneOverR) {
  LossModel m(gilbertElliott(0.01, 0.25, 1.0, 0.0));
  Rng rng(8);
  int bursts = 0, lost = 0;
  bool prev = false;
  for (int i = 0; i < kSamples; ++i) {
    bool l = m.lose(rng);
    lost += l;
    bursts += l && !prev;
    prev = l;
  }
  double mean_burst = static_cast<double>(lost) / bursts;
  // Bursts are geometric with mean 1/r = 4 (sd ~3.5); about 7700 of them.
  EXPECT_NEAR(mean_burst, 4.0, 5 * std::sqrt(12.0 / bursts));
}

TEST(LossModel, MeanLossOfGilbertElliottIsTheStationaryMix) {
  EXPECT_NEAR(gilbertElliott(0.01, 0.3, 1.0, 0.0).meanLoss(), 0.01 / 0.31, 1e-12);
  EXPECT_NEAR(gilbertElliott(0.1, 0.1, 0.5, 0.1).meanLoss(), 0.3, 1e-12);
}

TEST(LossSpec, ParsesWhatTheSimulatorAndTheEmulatorAccept) {
  const LossSpec b = parseBernoulliLoss("2%").value();
  EXPECT_EQ(b.kind, LossSpec::Kind::kBernoulli);
  EXPECT_DOUBLE_EQ(b.p_loss, 0.02);
  EXPECT_EQ(parseBernoulliLoss("0").value().kind, LossSpec::Kind::kNone);

  const LossSpec ge = parseGilbertElliottLoss("1%:30%").value();
  EXPECT_EQ(ge.kind, LossSpec::Kind::kGilbertElliott);
  EXPECT_DOUBLE_EQ(ge.p_good_bad, 0.01);
  EXPECT_DOUBLE_EQ(ge.p_bad_good, 0.3);
  EXPECT_DOUBLE_EQ(ge.loss_bad, 1.0);  // the defaults
  EXPECT_DOUBLE_EQ(ge.loss_good, 0.0);
  const LossSpec full = parseGilbertElliottLoss("0.01:0.3:50%:1%").value();
  EXPECT_DOUBLE_EQ(full.loss_bad, 0.5);
  EXPECT_DOUBLE_EQ(full.loss_good, 0.01);

  EXPECT_FALSE(parseBernoulliLoss("often"));
  EXPECT_FALSE(parseBernoulliLoss("150%"));
  auto one = parseGilbertElliottLoss("1%");
  ASSERT_FALSE(one);
  EXPECT_NE(one.error().message.find("p:r"), std::string::npos);
  EXPECT_NE(one.error().message.find("'1%'"), std::string::npos);
  EXPECT_FALSE(parseGilbertElliottLoss("1%:2%:3%:4%:5%"));
  auto stuck = parseGilbertElliottLoss("1%:0");
  ASSERT_FALSE(stuck);
  EXPECT_NE(stuck.error().message.find("never ends"), std::string::npos);
  EXPECT_TRUE(parseGilbertElliottLoss("0:0"));  // never bad: no loss, and no trap
}

TEST(Rng, TheSimulatorsStreamsAreSplitmixSeededBySeedLinkAndPurpose) {
  // The simulator's results may not move when the emulator shares its generator: its
  // streams start from seed ^ (link+1)*K1 ^ (purpose+1)*K2, as before.
  Rng a(42, 3, 1);
  Rng b(42ULL ^ (4 * 0xd1b54a32d192ed03ULL) ^ (2 * 0x8cb92ba72f3d8dd7ULL));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(a.next(), b.next());
  }
  Rng never(1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(never.chance(0));
  }
  Rng untouched(1);
  EXPECT_EQ(never.next(), untouched.next());  // chance(0) drew nothing
}

TEST(Rng, SameSeedSameStreamAndStreamsDiffer) {
  Rng a = Rng::forStream(7, 0, 0, 0), b = Rng::forStream(7, 0, 0, 0);
  Rng c = Rng::forStream(7, 1, 0, 0), d = Rng::forStream(7, 0, 1, 0);
  std::uint64_t first = a.next();
  EXPECT_EQ(first, b.next());
  EXPECT_NE(first, c.next());
  EXPECT_NE(first, d.next());
}

}  // namespace
}  // namespace bondcast::net
