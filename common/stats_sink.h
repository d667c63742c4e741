// SPDX-License-Identifier: MPL-2.0
// The one place structured stats leave a process: JSON lines, one object per line,
// to a file (--stats FILE) or stderr. Thread-safe; every line is flushed whole.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "common/file.h"
#include "common/result.h"

namespace bondcast {

// `record` with "type" and "ts_ms" (wall clock, ms since the epoch) added: what a stats
// line holds.
nlohmann::json stampRecord(const std::string& type, nlohmann::json record);

class StatsSink {
 public:
  // path empty or "-": stderr. Otherwise the file is created or truncated.
  static Result<std::shared_ptr<StatsSink>> open(const std::string& path);
  StatsSink(const StatsSink&) = delete;
  StatsSink& operator=(const StatsSink&) = delete;

  // Stamps the record (stampRecord), then writes one line.
  void write(const std::string& type, nlohmann::json record);

 private:
  explicit StatsSink(File f) : file_(std::move(f)) {}
  std::mutex mu_;
  File file_;
};

}  // namespace bondcast
