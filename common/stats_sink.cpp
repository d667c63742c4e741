// SPDX-License-Identifier: MPL-2.0
#include "common/stats_sink.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <unistd.h>

namespace bondcast {

Result<std::shared_ptr<StatsSink>> StatsSink::open(const std::string& path) {
  if (path.empty() || path == "-") {
    File err = openDuplicate(STDERR_FILENO);
    if (!err)
      return Error{std::string("cannot write stats to stderr: ") + std::strerror(errno)};
    return std::shared_ptr<StatsSink>(new StatsSink(std::move(err)));
  }
  File f(std::fopen(path.c_str(), "w"));
  if (!f)
    return Error{"cannot open stats file '" + path + "': " + std::strerror(errno)};
  return std::shared_ptr<StatsSink>(new StatsSink(std::move(f)));
}

nlohmann::json stampRecord(const std::string& type, nlohmann::json record) {
  using namespace std::chrono;
  record["type"] = type;
  record["ts_ms"] = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return record;
}

void StatsSink::write(const std::string& type, nlohmann::json record) {
  std::string line = stampRecord(type, std::move(record)).dump() + "\n";
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_.get());
  std::fflush(file_.get());
}

}  // namespace bondcast
