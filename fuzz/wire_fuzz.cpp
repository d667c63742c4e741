// SPDX-License-Identifier: MPL-2.0
// The adaptive-mode wire format (common/wire.h): parse() and parseReceipt() on any bytes a
// link delivers, and parseLinkStreamId() on any stream id a caller announces.
// Checks: a parsed header re-encodes to the bytes it came from and its payload is the
// rest of the packet; a refusal names the right reason; a stream id built by
// linkStreamId() parses back to what it was built from.
#include <algorithm>
#include <string>
#include <vector>

#include "common/wire.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace bondcast;
namespace fz = bondcast::fuzz;

void checkHeader(std::span<const std::uint8_t> packet) {
  const wire::ParseResult r = wire::parse(packet);
  if (!r.parsed) {
    FUZZ_CHECK(!wire::toString(r.error).empty());
    if (packet.size() < wire::kHeaderBytes) {
      FUZZ_CHECK(r.error == wire::HeaderError::kTooShort);
    } else if (packet[0] != 'B' || packet[1] != 'C') {
      FUZZ_CHECK(r.error == wire::HeaderError::kBadMagic);
    } else {
      FUZZ_CHECK(r.error == wire::HeaderError::kBadVersion);
      FUZZ_CHECK(packet[2] != wire::kVersion);
    }
    return;
  }
  FUZZ_CHECK(packet.size() >= wire::kHeaderBytes);
  const wire::Parsed& p = *r.parsed;
  FUZZ_CHECK(p.header.version == wire::kVersion);
  FUZZ_CHECK(p.payload.data() == packet.data() + wire::kHeaderBytes);
  FUZZ_CHECK(p.payload.size() == packet.size() - wire::kHeaderBytes);
  const auto again = wire::encode(p.header);
  FUZZ_CHECK(std::equal(again.begin(), again.end(), packet.begin()));
}

// A receipt: parsed, it lists ascending sequence numbers within its bitmap, and encodes
// to bytes that parse back to the same receipt.
void checkReceipt(std::span<const std::uint8_t> packet) {
  const wire::ReceiptResult r = wire::parseReceipt(packet);
  if (!r.receipt) {
    FUZZ_CHECK(!wire::toString(r.error).empty());
    if (packet.size() < wire::kReceiptHeaderBytes) {
      FUZZ_CHECK(r.error == wire::ReceiptError::kTooShort);
    }
    return;
  }
  const wire::Receipt& receipt = *r.receipt;
  FUZZ_CHECK(packet.size() <= wire::kReceiptHeaderBytes + wire::kMaxReceiptBits / 8);
  FUZZ_CHECK(std::is_sorted(receipt.received.begin(), receipt.received.end()));
  for (const std::uint64_t seq : receipt.received) {
    FUZZ_CHECK(seq >= receipt.below && seq - receipt.below < wire::kMaxReceiptBits);
  }
  std::vector<std::uint8_t> again;
  wire::encodeReceipt(receipt, again);
  const wire::ReceiptResult back = wire::parseReceipt(again);
  FUZZ_CHECK(back.receipt.has_value());
  FUZZ_CHECK(back.receipt->session == receipt.session);
  FUZZ_CHECK(back.receipt->below == receipt.below);
  FUZZ_CHECK(back.receipt->received == receipt.received);
}

void checkStreamId(std::string_view text) {
  const wire::LinkIdentityResult r = wire::parseLinkStreamId(text);
  FUZZ_CHECK(!(r.identity && !r.error.empty()));
  if (r.identity) {
    FUZZ_CHECK(r.identity->link <= 255);
    FUZZ_CHECK(r.identity->latency_ms <= 60000);
  }
}

// The stream id the sender builds, from a user stream id and values taken from the input,
// must say what it was built from.
void checkRoundTrip(fz::Reader& in) {
  const std::uint32_t session = in.u32();
  const std::uint32_t link = in.u8();
  const std::uint32_t latency_ms = in.u16() % 60001;
  const bool receipts = (in.u8() & 1) != 0;
  std::string user(fz::asText(in.rest()));
  // A user id in plain form (no commas) becomes r=<user>: nothing in it can pose as a key.
  std::erase(user, ',');
  while (user.starts_with("#!::")) {
    user.erase(0, 4);
  }
  const std::string sid = wire::linkStreamId(user, session, link, latency_ms, receipts);
  const wire::LinkIdentityResult r = wire::parseLinkStreamId(sid);
  FUZZ_CHECK(r.identity.has_value());
  FUZZ_CHECK(r.error.empty());
  FUZZ_CHECK(r.identity->session == session);
  FUZZ_CHECK(r.identity->link == link);
  FUZZ_CHECK(r.identity->latency_ms == latency_ms);
  FUZZ_CHECK(r.identity->receipts == receipts);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  checkHeader(input);
  checkReceipt(input);
  checkStreamId(fz::asText(input));
  fz::Reader in(data, size);
  checkRoundTrip(in);
  return 0;
}
