// SPDX-License-Identifier: MPL-2.0
// URIs and their SRT options (common/uri.h, common/srt_uri.h): whatever a user types after
// --link, --listen, --output or --input.
// Checks: a parsed URI's parts are what its text says (scheme lower case, keys lower case);
// taking the SRT options for any role leaves only the parameters that role allows, with
// values in their documented ranges; maskSecrets() keeps the URI's shape and hides exactly
// the passphrase the parser sees.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "common/srt_uri.h"
#include "common/uri.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace bondcast;
namespace fz = bondcast::fuzz;

bool isLower(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](unsigned char c) { return std::isupper(c); });
}

void checkOptions(const Uri& parsed, SrtUriRole role) {
  const std::vector<std::string> also = {"weight", "bind", "dev", "cost", "mode"};
  Uri uri = parsed;
  const auto options = takeSrtUriOptions(uri, role, also);
  if (!options) {
    FUZZ_CHECK(!options.error().message.empty());
    return;
  }
  const std::vector<std::string> names = srtUriOptionNames(role);
  for (const auto& [key, value] : uri.params) {
    FUZZ_CHECK(std::find(also.begin(), also.end(), key) != also.end());
  }
  for (const auto& [key, value] : parsed.params) {
    const bool taken = !uri.params.contains(key);
    FUZZ_CHECK(!taken || std::find(names.begin(), names.end(), key) != names.end());
  }
  if (options->latency) {
    FUZZ_CHECK(options->latency->count() >= 0 && options->latency->count() <= 60000);
  }
  if (options->passphrase) {
    FUZZ_CHECK(options->passphrase->size() >= 10 && options->passphrase->size() <= 79);
    FUZZ_CHECK(parsed.param("passphrase") == options->passphrase);
  }
  if (options->pbkeylen) {
    FUZZ_CHECK(*options->pbkeylen == 16 || *options->pbkeylen == 24 || *options->pbkeylen == 32);
  }
  if (options->conntimeo) {
    FUZZ_CHECK(options->conntimeo->count() >= 1 && options->conntimeo->count() <= 120000);
  }
  if (options->streamid) {
    FUZZ_CHECK(options->streamid->size() <= 512);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fz::asText({data, size});
  for (bool port_required : {false, true}) {
    const auto hp = parseHostPort(text, port_required);
    FUZZ_CHECK(hp.ok() || !hp.error().message.empty());
  }
  const std::string masked = maskSecrets(text);
  const auto uri = parseUri(text);
  if (!uri) {
    FUZZ_CHECK(!uri.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(!uri->scheme.empty() && isLower(uri->scheme));
  for (const auto& [key, value] : uri->params) {
    FUZZ_CHECK(!key.empty() && isLower(key));
  }
  FUZZ_CHECK(uri->isListener() == uri->host.empty());
  FUZZ_CHECK(!uri->hostPort().empty());

  // Masking changes values only: the masked text parses to the same URI, whose
  // passphrase (if it had one) is now ***.
  const auto again = parseUri(masked);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->scheme == uri->scheme && again->host == uri->host && again->port == uri->port &&
             again->listen_marker == uri->listen_marker);
  FUZZ_CHECK(again->params.size() == uri->params.size());
  for (const auto& [key, value] : uri->params) {
    FUZZ_CHECK(again->params.contains(key));
    FUZZ_CHECK(key == "passphrase" ? (value.empty() || again->params.at(key) == "***")
                                   : again->params.at(key) == value);
  }

  for (SrtUriRole role : {SrtUriRole::kLink, SrtUriRole::kListener, SrtUriRole::kOutputListener,
                          SrtUriRole::kOutputCaller, SrtUriRole::kInputListener}) {
    checkOptions(*uri, role);
  }
  return 0;
}
