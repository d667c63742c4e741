// SPDX-License-Identifier: MPL-2.0
// Every scenario file in the repository: the simulator's and eval's, one schema that
// both `bondcast sim` and `bondcast emulate` read. Sorted paths.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace bondcast::test {

inline std::vector<std::string> repositoryScenarioFiles() {
  std::vector<std::string> files;
  for (const char* dir : {"/scheduler/sim/scenarios", "/eval/scenarios"}) {
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(BONDCAST_SOURCE_DIR) + dir)) {
      if (entry.path().extension() == ".json") {
        files.push_back(entry.path().string());
      }
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace bondcast::test
