// SPDX-License-Identifier: MPL-2.0
// When send and recv draw the live view (app/view_option.h): --view, --no-view, a
// terminal, --quiet, --stats -; and what the log shows beside it.
#include <gtest/gtest.h>

#include <vector>

#include "app/view_option.h"

namespace bondcast::app {
namespace {

TEST(ViewWanted, OnWithViewOffWithNoViewElseOnATerminalUnlessQuietOrStatsOnStderr) {
  EXPECT_TRUE(viewWanted(ViewChoice::kOn, false, 0, "-"));
  EXPECT_FALSE(viewWanted(ViewChoice::kOff, true, 1, ""));
  EXPECT_TRUE(viewWanted(ViewChoice::kAuto, true, 1, ""));
  EXPECT_TRUE(viewWanted(ViewChoice::kAuto, true, 2, "stats.jsonl"));
  EXPECT_FALSE(viewWanted(ViewChoice::kAuto, false, 1, ""));
  EXPECT_FALSE(viewWanted(ViewChoice::kAuto, true, 0, ""));   // --quiet
  EXPECT_FALSE(viewWanted(ViewChoice::kAuto, true, 1, "-"));  // --stats -
}

TEST(LogVerbosity, WithTheViewOnlyWarningsUnlessVerbose) {
  EXPECT_EQ(logVerbosity(1, true), 0);   // default: warnings and errors
  EXPECT_EQ(logVerbosity(2, true), 1);   // -v: info
  EXPECT_EQ(logVerbosity(3, true), 2);   // -vv: debug
  EXPECT_EQ(logVerbosity(0, true), 0);   // --quiet --view
  EXPECT_EQ(logVerbosity(1, false), 1);  // no view: as given
}

TEST(ViewOptions, TheCommandLineChoosesAndNoViewWins) {
  auto parse = [](std::vector<const char*> args) {
    CLI::App app;
    ViewChoice choice = ViewChoice::kAuto;
    addViewOptions(
        app, [&](ViewChoice c) { choice = c; }, "a table");
    args.insert(args.begin(), "bondcast");
    app.parse(static_cast<int>(args.size()), args.data());
    return choice;
  };
  EXPECT_EQ(parse({}), ViewChoice::kAuto);
  EXPECT_EQ(parse({"--view"}), ViewChoice::kOn);
  EXPECT_EQ(parse({"--no-view"}), ViewChoice::kOff);
  EXPECT_EQ(parse({"--no-view", "--view"}), ViewChoice::kOff);
}

}  // namespace
}  // namespace bondcast::app
