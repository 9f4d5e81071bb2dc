// Deleting daily log files past logging.retention_days: `access-YYYY-MM-DD.jsonl`,
// `error-YYYY-MM-DD.log` and `audit-YYYY-MM-DD.log` in logging.dir. A file is kept while its day is
// at most retention_days days before today (UTC), so every line stays at least retention_days days.
// Other files are never touched.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace portico::observability {

// The day a log file is for, when its name is one of ours; nullopt otherwise.
std::optional<std::chrono::sys_days> log_file_day(const std::string& file_name);

// Deletes our log files in `dir` dated before `now`'s UTC day minus `retention_days`; returns
// what it deleted. Problems (a file that cannot be removed) are reported to `warn`.
std::vector<std::filesystem::path> sweep_old_logs(
    const std::filesystem::path& dir, int retention_days, std::chrono::system_clock::time_point now,
    const std::function<void(const std::string&)>& warn = {});

// Sweeps at the first call and then once per UTC day.
class LogRetention {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  LogRetention(std::filesystem::path dir, int retention_days, Clock clock,
               std::function<void(const std::string&)> warn = {});
  // Sweeps when the day has changed since the last sweep; returns what was deleted.
  std::vector<std::filesystem::path> sweep_if_due();

 private:
  std::filesystem::path dir_;
  int retention_days_;
  Clock clock_;
  std::function<void(const std::string&)> warn_;
  std::optional<std::chrono::sys_days> last_sweep_;
};

}  // namespace portico::observability
