#include "core/observability/process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace portico::observability {
namespace {

// The value of a "Key:   123 kB" line of /proc/self/status.
std::optional<std::uint64_t> status_field(const std::string& status, const std::string& key) {
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    try {
      return std::stoull(line.substr(key.size() + 1));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string slurp(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<double> boot_time_seconds() {
  std::istringstream in(slurp("/proc/stat"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return std::nullopt;
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats stats;
  std::string status = slurp("/proc/self/status");
  if (auto rss_kb = status_field(status, "VmRSS")) stats.resident_memory_bytes = *rss_kb * 1024;
  stats.threads = status_field(status, "Threads");

  std::error_code ec;
  std::uint64_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  // The iterator's own descriptor is listed too.
  if (!ec && fds > 0) stats.open_fds = fds - 1;

  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    stats.max_fds = limit.rlim_cur;
  }

  // /proc/self/stat: fields after the parenthesised command name; utime and stime are the 14th
  // and 15th fields, starttime the 22nd, all in clock ticks.
  std::string stat = slurp("/proc/self/stat");
  auto close = stat.rfind(')');
  long ticks = sysconf(_SC_CLK_TCK);
  if (close != std::string::npos && ticks > 0) {
    std::istringstream rest(stat.substr(close + 2));
    std::vector<std::string> fields;
    std::string field;
    while (rest >> field) fields.push_back(field);
    // fields[0] is the 3rd field of the file (state).
    try {
      if (fields.size() > 19) {
        double tick = static_cast<double>(ticks);
        stats.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / tick;
        if (auto boot = boot_time_seconds())
          stats.start_time_seconds = *boot + std::stod(fields[19]) / tick;
      }
    } catch (const std::exception&) {
      // leave them empty
    }
  }
  return stats;
}

}  // namespace portico::observability
