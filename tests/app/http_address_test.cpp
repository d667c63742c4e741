// SPDX-License-Identifier: MPL-2.0
// `--http [ADDR:]PORT`: this host only unless an address says otherwise; a bad value's
// error names it.
#include <gtest/gtest.h>

#include "app/http_address.h"

namespace bondcast::app {
namespace {

HttpAddress parsed(const std::string& text) {
  auto a = parseHttpAddress(text);
  EXPECT_TRUE(a) << text << ": " << (a ? "" : a.error().message);
  return a ? *a : HttpAddress{};
}

TEST(HttpAddress, APortAloneIsThisHostOnly) {
  EXPECT_EQ(parsed("9100"), (HttpAddress{"127.0.0.1", 9100}));
  EXPECT_EQ(parsed(":9100"), (HttpAddress{"127.0.0.1", 9100}));
  EXPECT_EQ(parsed("localhost:9100"), (HttpAddress{"127.0.0.1", 9100}));
  EXPECT_EQ(parsed("0"), (HttpAddress{"127.0.0.1", 0}));
}

TEST(HttpAddress, AnAddressExposesIt) {
  EXPECT_EQ(parsed("0.0.0.0:9100"), (HttpAddress{"0.0.0.0", 9100}));
  EXPECT_EQ(parsed("[::]:9100"), (HttpAddress{"::", 9100}));
  EXPECT_EQ(parsed("[::1]:65535"), (HttpAddress{"::1", 65535}));
  EXPECT_EQ(parsed("[::1]:9100").text(), "[::1]:9100");
  EXPECT_EQ(parsed(":9100").text(), "127.0.0.1:9100");
}

TEST(HttpAddress, ABadValueIsAnErrorNamingIt) {
  for (const std::string bad :
       {"", "nonsense", ":", "9100:", "65536", "-1", "+80", "1.2.3:80", "example.com:80",
        "::1:9100", "[::1]9100", "[nope]:80", "[::1:80", "127.0.0.1:80x"}) {
    auto a = parseHttpAddress(bad);
    ASSERT_FALSE(a) << "'" << bad << "' accepted";
    EXPECT_NE(a.error().message.find("'" + bad + "': "), std::string::npos) << a.error().message;
  }
}

}  // namespace
}  // namespace bondcast::app
