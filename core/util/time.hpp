// RFC 3339 UTC timestamps, the only time format on the wire.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace portico::util {

// "2026-11-26T10:00:00Z" (whole seconds) or with milliseconds when `millis` is set.
std::string format_rfc3339(std::chrono::system_clock::time_point t, bool millis = false);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z" and numeric offsets "+09:00"; nullopt when malformed or
// outside what system_clock can hold (before 1677-09-22 or after 2262-04-11).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace portico::util
