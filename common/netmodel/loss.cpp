// SPDX-License-Identifier: MPL-2.0
#include "common/netmodel/loss.h"

#include <vector>

#include "common/units.h"

namespace bondcast::net {

double LossSpec::meanLoss() const {
  switch (kind) {
    case Kind::kNone:
      return 0;
    case Kind::kBernoulli:
      return p_loss;
    case Kind::kGilbertElliott: {
      if (p_good_bad + p_bad_good == 0)
        return loss_good;
      const double pi_bad = p_good_bad / (p_good_bad + p_bad_good);
      return pi_bad * loss_bad + (1 - pi_bad) * loss_good;
    }
  }
  return 0;
}

Result<LossSpec> parseBernoulliLoss(std::string_view text) {
  auto p = parseProbability(text);
  if (!p)
    return p.error();
  LossSpec l;
  l.kind = *p > 0 ? LossSpec::Kind::kBernoulli : LossSpec::Kind::kNone;
  l.p_loss = *p;
  return l;
}

Result<LossSpec> parseGilbertElliottLoss(std::string_view text) {
  std::vector<double> v;
  std::string_view rest = text;
  while (true) {
    const std::size_t colon = rest.find(':');
    auto p = parseProbability(rest.substr(0, colon));
    if (!p)
      return p.error();
    v.push_back(*p);
    if (colon == std::string_view::npos)
      break;
    rest = rest.substr(colon + 1);
  }
  if (v.size() < 2 || v.size() > 4) {
    return Error{"expected p:r[:loss_bad[:loss_good]] (e.g. 1%:30%:100%:0%), got '" +
                 std::string(text) + "'"};
  }
  LossSpec l;
  l.kind = LossSpec::Kind::kGilbertElliott;
  l.p_good_bad = v[0];
  l.p_bad_good = v[1];
  l.loss_bad = v.size() > 2 ? v[2] : 1.0;
  l.loss_good = v.size() > 3 ? v[3] : 0.0;
  if (l.p_bad_good == 0 && l.p_good_bad > 0)
    return Error{"r must be above 0 (else the bad state never ends)"};
  return l;
}

}  // namespace bondcast::net
