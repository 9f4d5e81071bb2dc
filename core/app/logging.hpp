// The process log (spdlog, stderr): level from [logging] level.
#pragma once

#include <string>

namespace portico::app {

void setup_process_log(const std::string& level);

}  // namespace portico::app
