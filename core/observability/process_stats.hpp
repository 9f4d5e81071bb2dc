// The process_* metrics, read from /proc/self (Linux).
#pragma once

#include <cstdint>
#include <optional>

namespace portico::observability {

struct ProcessStats {
  std::optional<std::uint64_t> resident_memory_bytes;
  std::optional<std::uint64_t> open_fds;
  std::optional<std::uint64_t> max_fds;
  std::optional<std::uint64_t> threads;
  std::optional<double> cpu_seconds;
  std::optional<double> start_time_seconds;  // since the Unix epoch
};

// Whatever /proc offers; a value that cannot be read stays empty (and is not exported).
ProcessStats read_process_stats();

}  // namespace portico::observability
