// SPDX-License-Identifier: MPL-2.0
#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace bondcast {

void setupLogging(int verbosity, const std::string& who, spdlog::sink_ptr sink) {
  auto logger = sink ? std::make_shared<spdlog::logger>("bondcast-" + who, std::move(sink))
                     : spdlog::stderr_color_mt("bondcast-" + who);
  logger->set_pattern("%H:%M:%S.%e " + who + " %^%l%$: %v");
  logger->set_level(verbosity <= 0   ? spdlog::level::warn
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

}  // namespace bondcast
