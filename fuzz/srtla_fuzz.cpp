// SPDX-License-Identifier: MPL-2.0
// SRTLA (common/srtla/): parse() on any datagram, and the receiver's registry driven by a
// stream of datagrams from a handful of addresses, as a hostile network would send them.
// Checks: a parsed registration re-encodes to the bytes it came from; a refusal names a
// reason that fits the bytes; the registry never holds more than its limits, an address
// is a link of one group at most, and every link of a group maps back to it.
#include <chrono>
#include <random>
#include <set>
#include <string>

#include "common/srtla/registry.h"
#include "common/srtla/wire.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace bondcast;
using namespace bondcast::srtla;
namespace fz = bondcast::fuzz;

void checkParse(std::span<const std::uint8_t> d) {
  const ParseResult r = parse(d);
  if (!r.packet) {
    FUZZ_CHECK(!toString(r.error).empty());
    if (r.error == Error::kTooShort)
      FUZZ_CHECK(d.size() < kSrtHeaderBytes);
    return;
  }
  const Packet& p = *r.packet;
  FUZZ_CHECK(d.size() >= 2);
  if (p.kind == Kind::kReg1 || p.kind == Kind::kReg2) {
    const auto again = p.kind == Kind::kReg1 ? reg1(p.group) : reg2(p.group);
    FUZZ_CHECK(again.size() == d.size());
    FUZZ_CHECK(std::equal(again.begin(), again.end(), d.begin()));
  }
  if (p.kind == Kind::kAck)
    FUZZ_CHECK(p.acked.size() == kAckSeqs);
  if (p.kind == Kind::kSrtData || p.kind == Kind::kSrtControl)
    FUZZ_CHECK(d.size() >= kSrtHeaderBytes);
}

void checkRegistry(fz::Reader& in) {
  std::mt19937 rng(1);
  Registry registry([&](std::span<std::uint8_t> out) {
    for (auto& b : out)
      b = static_cast<std::uint8_t>(rng());
  });
  Registry::TimePoint now{};
  std::vector<GroupId> answered;  // full ids the registry gave out
  while (!in.empty()) {
    const std::uint8_t op = in.u8();
    const std::string from = "addr" + std::to_string(in.u8() % 24);
    now += std::chrono::milliseconds(in.u16() % 3000);
    GroupId id{};
    if (op & 0x10 && !answered.empty()) {
      id = answered[in.u8() % answered.size()];
    } else {
      id.fill(in.u8());
    }
    switch (op % 4) {
      case 0: {
        const ParseResult r = parse(registry.onReg1(from, id, now));
        FUZZ_CHECK(r.packet.has_value());
        if (r.packet->kind == Kind::kReg2)
          answered.push_back(r.packet->group);
        else
          FUZZ_CHECK(r.packet->kind == Kind::kRegErr);
        break;
      }
      case 1: {
        const ParseResult r = parse(registry.onReg2(from, id, now));
        FUZZ_CHECK(r.packet.has_value());
        FUZZ_CHECK(r.packet->kind == Kind::kReg3 || r.packet->kind == Kind::kRegErr ||
                   r.packet->kind == Kind::kRegNgp);
        break;
      }
      case 2:
        (void)registry.onTraffic(from, in.u16(), now);
        break;
      default:
        (void)registry.expire(now);
        break;
    }
    FUZZ_CHECK(registry.groups().size() <= Registry::kMaxGroups);
    std::set<std::string> seen;
    for (const auto& [number, g] : registry.groups()) {
      FUZZ_CHECK(g.links.size() <= Registry::kMaxLinks);
      for (const auto& l : g.links) {
        FUZZ_CHECK(seen.insert(l.address).second);  // one group per address
        const auto* owner = registry.groupOf(l.address);
        FUZZ_CHECK(owner != nullptr && owner->number == number);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  checkParse(std::span<const std::uint8_t>(data, size));
  fz::Reader in(data, size);
  checkRegistry(in);
  return 0;
}
