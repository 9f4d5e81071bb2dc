// An spdlog sink writing to one file per UTC day, `<dir>/<prefix>-YYYY-MM-DD<extension>`, named by
// the date of each message's timestamp (spdlog's own daily sink rolls over in local time and
// names files differently). Used by the access log and the error log.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace spdlog::sinks {
class sink;
}

namespace portico::observability {

// Creates `dir` and opens today's file now, so an unwritable directory fails at start-up: throws
// std::runtime_error naming the file.
std::shared_ptr<spdlog::sinks::sink> make_daily_file_sink(const std::filesystem::path& dir,
                                                          std::string prefix,
                                                          std::string extension);

// "access-2026-11-26.jsonl" for prefix "access", extension ".jsonl" and that day.
std::string daily_file_name(const std::string& prefix, const std::string& extension,
                            std::chrono::system_clock::time_point day);

}  // namespace portico::observability
