// The process log (spdlog, stderr): level from [logging] level. Warnings and errors also go to
// `<logging.dir>/error-YYYY-MM-DD.log` (daily UTC files, swept with the access logs).
#pragma once

#include <string>

namespace portico::app {

// `error_log_dir` empty: stderr only. Throws std::runtime_error when the directory cannot be
// written.
void setup_process_log(const std::string& level, const std::string& error_log_dir = {});

}  // namespace portico::app
