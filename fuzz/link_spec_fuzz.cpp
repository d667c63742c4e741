// SPDX-License-Identifier: MPL-2.0
// The sender's --link URIs (sender/link_spec.h).
// Checks: an accepted link has a receiver host and port, a weight and a cost in their
// documented ranges, and text with its passphrase masked; and neither an accepted link's
// text nor any error message shows the passphrase the URI carries as passphrase=SECRET
// (README: passphrases never appear in logs), even when the URI is malformed. (Only in
// that form: a secret may well be a word the message says anyway.)
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "sender/link_spec.h"

namespace {

using namespace bondcast;
namespace fz = bondcast::fuzz;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// The passphrase values as written in `text` (after the first '?' that follows "://",
// items split by '&', keys case-insensitive) that are long enough for SRT to take, do not
// start as the mask does (***), occur only once in the text (in any case) and hold no
// ']' or '?': a message that shows passphrase=SECRET then leaked it. (A value with those
// can be spelled by the link as shown without being shown: the fuzzer wrote a host ending
// in "passphrase=X" and a passphrase "X]:8421?latye=t", and the shown host's "]", port and
// query, the passphrase masked, spelled it again.)
std::vector<std::string> writtenPassphrases(std::string_view text) {
  std::vector<std::string> out;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    return out;
  }
  const auto q = text.find('?', sep + 3);
  if (q == std::string_view::npos) {
    return out;
  }
  std::string_view query = text.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    const std::string key = lower(item.substr(0, eq));
    const std::string_view value = item.substr(eq + 1);
    const std::string lower_text = lower(text);
    const std::string lower_value = lower(value);
    if (key == "passphrase" && value.size() >= 10 && !value.starts_with("***") &&
        value.find_first_of("]?") == std::string_view::npos &&
        lower_text.find(lower_value) == lower_text.rfind(lower_value)) {
      out.emplace_back(value);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fz::asText({data, size});
  const auto link = sender::parseLinkSpec(text);
  const std::string& shown = link ? link->text : link.error().message;
  FUZZ_CHECK(!shown.empty());
  for (const std::string& secret : writtenPassphrases(text)) {
    const bool leaked = lower(shown).find("passphrase=" + lower(secret)) != std::string::npos;
    if (leaked) {
      std::fprintf(stderr, "passphrase '%s' shown in: %s\n", secret.c_str(), shown.c_str());
    }
    FUZZ_CHECK(!leaked);
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
