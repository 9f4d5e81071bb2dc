// Human-readable durations and sizes for messages (the parsers are public in config.hpp).
#pragma once

#include <cstdint>
#include <string>

namespace portico::config {

std::string format_duration(std::int64_t milliseconds);  // 90000 → "1m30s", 0 → "0ms"
std::string format_size(std::uint64_t bytes);            // 1048576 → "1MiB", 1500 → "1500"

}  // namespace portico::config
