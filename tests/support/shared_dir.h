// SPDX-License-Identifier: MPL-2.0
// Tests that read the shared folder beside the repository (../shared: real link traces)
// run where it exists, as in CI, and skip, naming what is missing, in a clone without
// it. Only the folder's absence skips: a file missing from a folder that is there still
// fails the test.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace bondcast::test {

// Empty when `folder` exists; otherwise why a test that needs it cannot run.
inline std::string missingSharedFolder(const std::string& folder, std::string_view what) {
  if (std::filesystem::is_directory(folder))
    return {};
  return "needs " + folder + " (" + std::string(what) + "): not present in this clone";
}

}  // namespace bondcast::test

// Skips the running test unless `folder` exists. In a TEST body (GTEST_SKIP returns
// from the function it is in).
#define BONDCAST_SKIP_WITHOUT_SHARED(folder, what)                                             \
  do {                                                                                         \
    const std::string bondcast_missing_ = ::bondcast::test::missingSharedFolder(folder, what); \
    if (!bondcast_missing_.empty())                                                            \
      GTEST_SKIP() << bondcast_missing_;                                                       \
  } while (0)

// The real capacity traces in the shared folder the build was configured with.
#define BONDCAST_SKIP_WITHOUT_SHARED_TRACES()                                \
  BONDCAST_SKIP_WITHOUT_SHARED(std::string(BONDCAST_SHARED_DIR) + "/traces", \
                               "real link traces from ../shared")
