#include "core/app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/observability/daily_file_sink.hpp"

namespace portico::app {

void setup_process_log(const std::string& level, const std::string& error_log_dir) {
  auto logger = spdlog::stderr_color_mt("portico");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
  if (!error_log_dir.empty()) {
    auto errors = observability::make_daily_file_sink(error_log_dir, "error", ".log");
    errors->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
    errors->set_level(spdlog::level::warn);
    logger->sinks().push_back(std::move(errors));
    logger->flush_on(spdlog::level::warn);  // an error line must survive a crash right after it
  }
}

}  // namespace portico::app
