// SPDX-License-Identifier: MPL-2.0
#include "common/wire.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

namespace bondcast::wire {
namespace {

constexpr std::uint8_t kMagic0 = 'B';
constexpr std::uint8_t kMagic1 = 'C';
constexpr std::uint8_t kReceiptMagic1 = 'R';
constexpr std::uint32_t kMaxLinkIndex = 255;
constexpr std::uint32_t kMaxLatencyMs = 60000;

template <class T>
void putBigEndian(std::uint8_t* out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out[i] = static_cast<std::uint8_t>(value >> (8 * (sizeof(T) - 1 - i)));
  }
}

template <class T>
T getBigEndian(const std::uint8_t* in) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value = static_cast<T>((value << 8) | in[i]);
  }
  return value;
}

// The value of `key=` among the comma-separated items after "#!::", if present.
std::optional<std::string_view> accessControlValue(std::string_view stream_id,
                                                   std::string_view key) {
  if (!stream_id.starts_with("#!::")) {
    return std::nullopt;
  }
  std::string_view body = stream_id.substr(4);
  while (!body.empty()) {
    const auto comma = body.find(',');
    const std::string_view item = body.substr(0, comma);
    if (item.size() > key.size() && item.starts_with(key) && item[key.size()] == '=') {
      return item.substr(key.size() + 1);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    body.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

}  // namespace

std::string_view toString(HeaderError e) {
  switch (e) {
    case HeaderError::kTooShort:
      return "too short";
    case HeaderError::kBadMagic:
      return "not a bondcast header";
    case HeaderError::kBadVersion:
      return "unsupported version";
  }
  return "?";
}

void encode(const Header& header, std::span<std::uint8_t, kHeaderBytes> out) {
  out[0] = kMagic0;
  out[1] = kMagic1;
  out[2] = header.version;
  out[3] = header.flags;
  putBigEndian(out.data() + 4, header.session);
  putBigEndian(out.data() + 8, header.seq);
  putBigEndian(out.data() + 16, header.source_time_us);
}

std::array<std::uint8_t, kHeaderBytes> encode(const Header& header) {
  std::array<std::uint8_t, kHeaderBytes> out{};
  encode(header, std::span<std::uint8_t, kHeaderBytes>(out));
  return out;
}

ParseResult parse(std::span<const std::uint8_t> packet) {
  ParseResult r;
  if (packet.size() < kHeaderBytes) {
    r.error = HeaderError::kTooShort;
    return r;
  }
  if (packet[0] != kMagic0 || packet[1] != kMagic1) {
    r.error = HeaderError::kBadMagic;
    return r;
  }
  if (packet[2] != kVersion) {
    r.error = HeaderError::kBadVersion;
    return r;
  }
  Parsed p;
  p.header.version = packet[2];
  p.header.flags = packet[3];
  p.header.session = getBigEndian<std::uint32_t>(packet.data() + 4);
  p.header.seq = getBigEndian<std::uint64_t>(packet.data() + 8);
  p.header.source_time_us = getBigEndian<std::uint64_t>(packet.data() + 16);
  p.payload = packet.subspan(kHeaderBytes);
  r.parsed = p;
  return r;
}

std::string linkStreamId(std::string_view user_stream, std::uint32_t session, std::uint32_t link,
                         std::uint32_t latency_ms, bool receipts) {
  char keys[64];
  std::snprintf(keys, sizeof keys, "bcs=%08x,bcl=%u", session, link);
  if (latency_ms > 0) {
    std::snprintf(keys + std::strlen(keys), sizeof keys - std::strlen(keys), ",bclat=%u",
                  latency_ms);
  }
  if (receipts) {
    std::snprintf(keys + std::strlen(keys), sizeof keys - std::strlen(keys), ",bcr=1");
  }
  std::string out;
  if (user_stream.starts_with("#!::")) {
    out = std::string(user_stream);
    if (out.size() > 4) {
      out += ',';
    }
  } else if (!user_stream.empty()) {
    out = "#!::r=" + std::string(user_stream) + ",";
  } else {
    out = "#!::";
  }
  return out + keys;
}

LinkIdentityResult parseLinkStreamId(std::string_view stream_id) {
  LinkIdentityResult r;
  const auto session = accessControlValue(stream_id, "bcs");
  const auto link = accessControlValue(stream_id, "bcl");
  if (!session && !link) {
    return r;
  }
  if (!session || !link) {
    r.error = "stream id has only one of bcs= and bcl=";
    return r;
  }
  LinkIdentity id;
  auto [sp, sec] =
      std::from_chars(session->data(), session->data() + session->size(), id.session, 16);
  if (sec != std::errc() || sp != session->data() + session->size() || session->size() != 8) {
    r.error = "stream id bcs='" + std::string(*session) + "' is not 8 hex digits";
    return r;
  }
  auto [lp, lec] = std::from_chars(link->data(), link->data() + link->size(), id.link);
  if (lec != std::errc() || lp != link->data() + link->size() || id.link > kMaxLinkIndex) {
    r.error = "stream id bcl='" + std::string(*link) + "' is not a link index 0-255";
    return r;
  }
  if (const auto latency = accessControlValue(stream_id, "bclat")) {
    auto [p, ec] =
        std::from_chars(latency->data(), latency->data() + latency->size(), id.latency_ms);
    if (ec != std::errc() || p != latency->data() + latency->size() || id.latency_ms == 0 ||
        id.latency_ms > kMaxLatencyMs) {
      r.error = "stream id bclat='" + std::string(*latency) + "' is not a latency of 1-" +
                std::to_string(kMaxLatencyMs) + " ms";
      return r;
    }
  }
  if (const auto receipts = accessControlValue(stream_id, "bcr")) {
    if (*receipts != "1") {
      r.error = "stream id bcr='" + std::string(*receipts) + "' is not 1";
      return r;
    }
    id.receipts = true;
  }
  r.identity = id;
  return r;
}

std::string_view toString(ReceiptError e) {
  switch (e) {
    case ReceiptError::kTooShort:
      return "shorter than a receipt's header";
    case ReceiptError::kBadMagic:
      return "not a bondcast receipt";
    case ReceiptError::kBadVersion:
      return "unsupported receipt version";
    case ReceiptError::kBadLength:
      return "bitmap length does not match the packet, or runs past the last sequence number";
  }
  return "?";
}

void encodeReceipt(const Receipt& receipt, std::vector<std::uint8_t>& out) {
  std::uint32_t bits = 0;
  for (const std::uint64_t seq : receipt.received) {
    if (seq >= receipt.below && seq - receipt.below < kMaxReceiptBits) {
      bits = std::max(bits, static_cast<std::uint32_t>(seq - receipt.below) / 8 * 8 + 8);
    }
  }
  out.assign(kReceiptHeaderBytes + bits / 8, 0);
  out[0] = kMagic0;
  out[1] = kReceiptMagic1;
  out[2] = kVersion;
  putBigEndian(out.data() + 4, receipt.session);
  putBigEndian(out.data() + 8, receipt.below);
  putBigEndian(out.data() + 16, static_cast<std::uint16_t>(bits));
  for (const std::uint64_t seq : receipt.received) {
    if (seq >= receipt.below && seq - receipt.below < bits) {
      const std::uint64_t i = seq - receipt.below;
      out[kReceiptHeaderBytes + i / 8] |= static_cast<std::uint8_t>(0x80U >> (i % 8));
    }
  }
}

ReceiptResult parseReceipt(std::span<const std::uint8_t> packet) {
  ReceiptResult r;
  if (packet.size() < kReceiptHeaderBytes) {
    r.error = ReceiptError::kTooShort;
    return r;
  }
  if (packet[0] != kMagic0 || packet[1] != kReceiptMagic1) {
    r.error = ReceiptError::kBadMagic;
    return r;
  }
  if (packet[2] != kVersion) {
    r.error = ReceiptError::kBadVersion;
    return r;
  }
  Receipt receipt;
  receipt.session = getBigEndian<std::uint32_t>(packet.data() + 4);
  receipt.below = getBigEndian<std::uint64_t>(packet.data() + 8);
  const auto bits = getBigEndian<std::uint16_t>(packet.data() + 16);
  if (bits % 8 != 0 || bits > kMaxReceiptBits || packet.size() != kReceiptHeaderBytes + bits / 8U ||
      receipt.below > std::numeric_limits<std::uint64_t>::max() - bits) {
    r.error = ReceiptError::kBadLength;
    return r;
  }
  for (std::uint32_t byte = 0; byte < bits / 8U; ++byte) {
    const std::uint8_t b = packet[kReceiptHeaderBytes + byte];
    for (std::uint32_t bit = 0; b != 0 && bit < 8; ++bit) {
      if (b & (0x80U >> bit)) {
        receipt.received.push_back(receipt.below + std::uint64_t{byte} * 8 + bit);
      }
    }
  }
  r.receipt = std::move(receipt);
  return r;
}

}  // namespace bondcast::wire
