// SPDX-License-Identifier: MPL-2.0
// Per-packet loss decisions: none, Bernoulli, or a two-state Gilbert-Elliott chain.
// Pure: the caller owns the random stream, so the k-th decision depends only on the
// seed and k.
#pragma once

#include "eval/emulator/config.h"
#include "eval/emulator/rng.h"

namespace bondcast::emu {

class LossModel {
 public:
  explicit LossModel(const LossSpec& spec) : spec_(spec) {}
  // Replaces the parameters; a Gilbert-Elliott chain keeps its current state.
  void set(const LossSpec& spec) { spec_ = spec; }
  const LossSpec& spec() const { return spec_; }
  bool inBadState() const { return bad_; }

  // Decides the fate of the next packet: true = lost. Draws from `rng` only when the
  // outcome is random (no draws for loss=0).
  bool lose(Rng& rng) {
    switch (spec_.kind) {
      case LossSpec::Kind::None:
        return false;
      case LossSpec::Kind::Bernoulli:
        return rng.chance(spec_.p_loss);
      case LossSpec::Kind::GilbertElliott:
        bad_ = bad_ ? !rng.chance(spec_.p_bad_good) : rng.chance(spec_.p_good_bad);
        return rng.chance(bad_ ? spec_.loss_bad : spec_.loss_good);
    }
    return false;
  }

 private:
  LossSpec spec_;
  bool bad_ = false;
};

}  // namespace bondcast::emu
