// SPDX-License-Identifier: MPL-2.0
// The sender's --link URIs (sender/link_spec.h).
// Checks: an accepted link has a receiver host and port, a weight and a cost in their
// documented ranges, and text with its passphrase masked; and nothing shown, an accepted
// link's text or any error message, even for a malformed URI, holds a byte of the
// passphrase the URI carries (README: passphrases never appear in logs).
//
// How the last is checked: every byte of each passphrase= value is replaced by a byte
// found nowhere else in the input (nor spelled there as %XX), and that input is parsed
// too; the canary byte must then be absent from what it shows. (Searching the shown text
// for the secret itself was tried first: the fuzzer kept finding texts that spell
// "passphrase=SECRET" out of other parts, such as a host ending in "passphrase=X" whose
// port the message writes without its leading 0, and no such search is exact.)
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <optional>
#include <string>

#include "fuzz/fuzz_support.h"
#include "sender/link_spec.h"

namespace {

using namespace bondcast;
namespace fz = bondcast::fuzz;

bool isHex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// A byte that is not in `text`, is not written there as %XX (which the parser decodes),
// and has no meaning in a URI (bytes 0x80-0xff only); none if the text uses them all.
std::optional<char> unusedByte(std::string_view text) {
  std::array<bool, 256> used{};
  for (std::size_t i = 0; i < text.size(); ++i) {
    used[static_cast<unsigned char>(text[i])] = true;
    if (text[i] == '%' && i + 2 < text.size() && isHex(text[i + 1]) && isHex(text[i + 2])) {
      used[std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)] = true;
    }
  }
  for (int b = 0x80; b <= 0xff; ++b) {
    if (!used[b]) {
      return static_cast<char>(b);
    }
  }
  return std::nullopt;
}

// `text` with every byte of every passphrase= value (as the parser splits the query: from
// the first '?' after "://", items split by '&', keys in any case) replaced by `canary`;
// nullopt if the text carries no passphrase value.
std::optional<std::string> withCanaryPassphrases(std::string_view text, char canary) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    return std::nullopt;
  }
  const auto q = text.find('?', sep + 3);
  if (q == std::string_view::npos) {
    return std::nullopt;
  }
  std::string out(text);
  bool replaced = false;
  std::size_t item = q + 1;
  while (item <= out.size()) {
    const std::size_t amp = std::min(out.find('&', item), out.size());
    const std::size_t eq = out.find('=', item);
    if (eq < amp) {
      std::string key = out.substr(item, eq - item);
      for (char& c : key) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (key == "passphrase" && eq + 1 < amp) {
        std::fill(out.begin() + static_cast<std::ptrdiff_t>(eq + 1),
                  out.begin() + static_cast<std::ptrdiff_t>(amp), canary);
        replaced = true;
      }
    }
    item = amp + 1;
  }
  return replaced ? std::optional(out) : std::nullopt;
}

// What the parser shows for `text`: the accepted link's text or the error message.
std::string shownFor(const Result<sender::LinkSpec>& link) {
  return link ? link->text : link.error().message;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fz::asText({data, size});
  const auto link = sender::parseLinkSpec(text);
  FUZZ_CHECK(!shownFor(link).empty());
  if (const auto canary = unusedByte(text)) {
    if (const auto secret_text = withCanaryPassphrases(text, *canary)) {
      const std::string secret_shown = shownFor(sender::parseLinkSpec(*secret_text));
      const bool leaked = secret_shown.find(*canary) != std::string::npos;
      if (leaked) {
        std::fprintf(stderr, "a passphrase byte (0x%02x) shown in: %s\n",
                     static_cast<unsigned char>(*canary), secret_shown.c_str());
      }
      FUZZ_CHECK(!leaked);
    }
  }
  if (!link) {
    return 0;
  }
  FUZZ_CHECK(!link->host.empty());
  FUZZ_CHECK(link->port != 0);
  FUZZ_CHECK(link->weight >= 0 && link->weight <= 65535);
  FUZZ_CHECK(std::isfinite(link->cost) && link->cost >= 0);
  FUZZ_CHECK(link->device.size() < 16);
  FUZZ_CHECK(!link->srt.streamid);  // a link's stream id is --stream-id
  return 0;
}
