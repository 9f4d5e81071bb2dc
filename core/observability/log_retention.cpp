#include "core/observability/log_retention.hpp"

namespace portico::observability {
namespace {

// "YYYY-MM-DD" at `pos` of `text`.
std::optional<std::chrono::sys_days> parse_day(const std::string& text, std::size_t pos) {
  if (text.size() < pos + 10 || text[pos + 4] != '-' || text[pos + 7] != '-') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  auto y = number(pos, 4), m = number(pos + 5, 2), d = number(pos + 8, 2);
  if (!y || !m || !d) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(*y),
                                  std::chrono::month(static_cast<unsigned>(*m)),
                                  std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

}  // namespace

std::optional<std::chrono::sys_days> log_file_day(const std::string& name) {
  struct Pattern {
    const char* prefix;
    const char* extension;
  };
  static constexpr Pattern kPatterns[] = {
      {"access-", ".jsonl"}, {"error-", ".log"}, {"audit-", ".log"}};
  for (const auto& pattern : kPatterns) {
    std::string prefix = pattern.prefix, extension = pattern.extension;
    if (name.size() != prefix.size() + 10 + extension.size()) continue;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    if (name.compare(prefix.size() + 10, extension.size(), extension) != 0) continue;
    return parse_day(name, prefix.size());
  }
  return std::nullopt;
}

std::vector<std::filesystem::path> sweep_old_logs(
    const std::filesystem::path& dir, int retention_days, std::chrono::system_clock::time_point now,
    const std::function<void(const std::string&)>& warn) {
  std::vector<std::filesystem::path> deleted;
  if (retention_days <= 0) return deleted;
  auto oldest_kept = std::chrono::floor<std::chrono::days>(now) - std::chrono::days(retention_days);
  std::error_code ec;
  std::vector<std::filesystem::path> expired;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto day = log_file_day(it->path().filename().string());
    if (day && *day < oldest_kept) expired.push_back(it->path());
  }
  if (ec && warn) warn("log retention: cannot list " + dir.string() + ": " + ec.message());
  for (const auto& path : expired) {
    std::error_code removal;
    if (std::filesystem::remove(path, removal)) {
      deleted.push_back(path);
    } else if (removal && warn) {
      warn("log retention: cannot delete " + path.string() + ": " + removal.message());
    }
  }
  return deleted;
}

LogRetention::LogRetention(std::filesystem::path dir, int retention_days, Clock clock,
                           std::function<void(const std::string&)> warn)
    : dir_(std::move(dir)),
      retention_days_(retention_days),
      clock_(std::move(clock)),
      warn_(std::move(warn)) {
  if (!clock_) clock_ = std::chrono::system_clock::now;
}

std::vector<std::filesystem::path> LogRetention::sweep_if_due() {
  auto now = clock_();
  auto today = std::chrono::floor<std::chrono::days>(now);
  if (last_sweep_ && *last_sweep_ == today) return {};
  last_sweep_ = today;
  return sweep_old_logs(dir_, retention_days_, now, warn_);
}

}  // namespace portico::observability
