// Retention: files older than logging.retention_days are deleted at start and once a day; other
// files are never touched.
#include "core/observability/log_retention.hpp"

#include <gtest/gtest.h>

#include "core/observability/daily_file_sink.hpp"
#include "core/util/time.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::observability {
namespace {

using namespace std::chrono_literals;

std::chrono::system_clock::time_point at(const char* rfc3339) {
  return *util::parse_rfc3339(rfc3339);
}

TEST(LogRetention, RecognisesOnlyOurDailyFiles) {
  EXPECT_TRUE(log_file_day("access-2026-01-31.jsonl"));
  EXPECT_TRUE(log_file_day("error-2026-01-31.log"));
  EXPECT_FALSE(log_file_day("access-2026-02-30.jsonl"));
  EXPECT_FALSE(log_file_day("access-latest.jsonl"));
  EXPECT_FALSE(log_file_day("access-2026-01-31.jsonl.gz"));
  EXPECT_FALSE(log_file_day("portico.db"));
  EXPECT_EQ(daily_file_name("access", ".jsonl", at("2026-01-31T23:59:59Z")),
            "access-2026-01-31.jsonl");
}

TEST(LogRetention, DeletesFilesOlderThanRetentionDaysAndKeepsTheRest) {
  test::TempDir dir;
  for (const char* name :
       {"access-2026-01-09.jsonl", "error-2026-01-09.log", "access-2026-01-10.jsonl",
        "error-2026-01-10.log", "access-2026-04-10.jsonl", "access-2025-12-31.jsonl", "notes.txt",
        "access-latest.jsonl"}) {
    dir.write(name, "x\n");
  }
  // 2026-04-10 minus 90 days is 2026-01-10: that day is still within retention.
  auto deleted = sweep_old_logs(dir.path(), 90, at("2026-04-10T12:00:00Z"));
  EXPECT_EQ(deleted.size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(dir / "access-2026-01-09.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(dir / "error-2026-01-09.log"));
  EXPECT_FALSE(std::filesystem::exists(dir / "access-2025-12-31.jsonl"));
  for (const char* kept : {"access-2026-01-10.jsonl", "error-2026-01-10.log",
                           "access-2026-04-10.jsonl", "notes.txt", "access-latest.jsonl"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / kept)) << kept;
  }
}

TEST(LogRetention, SweepsAtTheFirstCallThenOncePerDay) {
  test::TempDir dir;
  auto now = at("2026-04-10T00:00:01Z");
  LogRetention retention(dir.path(), 7, [&] { return now; });
  dir.write("access-2026-04-02.jsonl", "old\n");
  EXPECT_EQ(retention.sweep_if_due().size(), 1u);  // start-up sweep

  dir.write("access-2026-04-01.jsonl", "old\n");
  now += 23h;
  EXPECT_TRUE(retention.sweep_if_due().empty());  // same day: nothing to do
  EXPECT_TRUE(std::filesystem::exists(dir / "access-2026-04-01.jsonl"));

  dir.write("access-2026-04-04.jsonl", "becomes old tomorrow\n");
  now += 1h;  // 2026-04-11
  auto deleted = retention.sweep_if_due();
  EXPECT_EQ(deleted.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir / "access-2026-04-01.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(dir / "access-2026-04-04.jsonl"));
  now += 24h;  // 2026-04-12: 04-04 is now 8 days back
  EXPECT_EQ(retention.sweep_if_due().size(), 1u);
}

TEST(LogRetention, AMissingDirectoryIsReportedNotThrown) {
  std::vector<std::string> warnings;
  auto deleted = sweep_old_logs("/nonexistent/portico-logs", 90, at("2026-04-10T00:00:00Z"),
                                [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_TRUE(deleted.empty());
  EXPECT_EQ(warnings.size(), 1u);
}

}  // namespace
}  // namespace portico::observability
