// SPDX-License-Identifier: MPL-2.0
// Random packet loss for the network models, the simulator's and the emulator's alike:
// what the user writes (loss=P, ge=p:r[:loss_bad[:loss_good]]), and the per-packet
// decision: none, Bernoulli, or a two-state Gilbert-Elliott chain. Pure: the caller owns
// the random stream, so the k-th decision depends only on the stream's seed and k.
#pragma once

#include <string_view>

#include "common/netmodel/rng.h"
#include "common/result.h"

namespace bondcast::net {

struct LossSpec {
  enum class Kind { kNone, kBernoulli, kGilbertElliott };
  Kind kind = Kind::kNone;
  double p_loss = 0;  // Bernoulli: per-packet loss probability
  // Gilbert-Elliott: per packet, first the state moves (good->bad with p_good_bad,
  // bad->good with p_bad_good), then the packet is lost with the state's probability.
  double p_good_bad = 0;
  double p_bad_good = 1;
  double loss_bad = 1;
  double loss_good = 0;
  // Long-run loss rate the parameters give.
  double meanLoss() const;
};

// "P" (a probability: "1%", "0.01"); 0 is no loss.
Result<LossSpec> parseBernoulliLoss(std::string_view text);
// "p:r[:loss_bad[:loss_good]]", each a probability; loss_bad defaults to 100%, loss_good
// to 0%. r must be above 0 when p is (else the bad state never ends).
Result<LossSpec> parseGilbertElliottLoss(std::string_view text);

class LossModel {
 public:
  explicit LossModel(const LossSpec& spec) : spec_(spec) {}
  // Replaces the parameters; a Gilbert-Elliott chain keeps its current state.
  void set(const LossSpec& spec) { spec_ = spec; }
  const LossSpec& spec() const { return spec_; }
  bool inBadState() const { return bad_; }

  // Decides the fate of the next packet: true = lost. Draws from `rng` only for an
  // outcome that is random (none for no loss, nor for a probability of 0).
  bool lose(Rng& rng) {
    switch (spec_.kind) {
      case LossSpec::Kind::kNone:
        return false;
      case LossSpec::Kind::kBernoulli:
        return rng.chance(spec_.p_loss);
      case LossSpec::Kind::kGilbertElliott:
        bad_ = bad_ ? !rng.chance(spec_.p_bad_good) : rng.chance(spec_.p_good_bad);
        return rng.chance(bad_ ? spec_.loss_bad : spec_.loss_good);
    }
    return false;
  }

 private:
  LossSpec spec_;
  bool bad_ = false;
};

}  // namespace bondcast::net
