// Usage counting: per partner, UTC day and route, in memory, flushed in batches, read back merged,
// and kept across a restart.
#include "core/usage/usage_recorder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/storage/migrations.hpp"
#include "core/storage/sqlite_database.hpp"
#include "core/util/time.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::usage {
namespace {

using namespace std::chrono_literals;

UsageCounts counts(std::int64_t requests, std::int64_t e4, std::int64_t e5, std::int64_t rl) {
  UsageCounts c;
  c.requests = requests;
  c.errors_4xx = e4;
  c.errors_5xx = e5;
  c.rate_limited = rl;
  return c;
}

class UsageRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override { db = open(); }
  std::shared_ptr<Database> open() {
    auto handle = storage::open_sqlite({.path = (dir / "portico.db").string()});
    storage::apply_migrations(*handle, kUsageMigrationOwner, usage_migrations());
    return handle;
  }
  std::unique_ptr<UsageRecorder> recorder(std::shared_ptr<Database> handle) {
    return std::make_unique<UsageRecorder>(std::move(handle), [this] { return now; });
  }
  std::int64_t stored_rows() { return db->query("SELECT COUNT(*) FROM usage_daily")[0].integer(0); }

  test::TempDir dir;
  std::shared_ptr<Database> db;
  std::chrono::system_clock::time_point now = *util::parse_rfc3339("2026-11-26T23:59:59Z");
};

TEST(UtcDay, FormatsTheUtcDate) {
  EXPECT_EQ(utc_day(*util::parse_rfc3339("2026-11-26T23:59:59Z")), "2026-11-26");
  EXPECT_EQ(utc_day(*util::parse_rfc3339("2026-11-27T08:30:00+09:00")), "2026-11-26");
  EXPECT_EQ(utc_day(*util::parse_rfc3339("2024-02-29T00:00:00Z")), "2024-02-29");
}

TEST_F(UsageRecorderTest, CountsRequestsErrorsAndRateLimited) {
  auto usage = recorder(db);
  usage->record("ptr_a", "GET /v1/products/{id}", 200, false);
  usage->record("ptr_a", "GET /v1/products/{id}", 304, false);
  usage->record("ptr_a", "GET /v1/products/{id}", 404, false);
  usage->record("ptr_a", "GET /v1/products/{id}", 429, true);
  usage->record("ptr_a", "GET /v1/products/{id}", 503, false);
  usage->record("ptr_a", "POST /v1/orders", 201, false);

  auto rows = usage->query("ptr_a", "2026-11-26", "2026-11-26");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].day, "2026-11-26");
  EXPECT_EQ(rows[0].route, "GET /v1/products/{id}");
  EXPECT_EQ(rows[0].counts, counts(5, 2, 1, 1));
  EXPECT_EQ(rows[1].route, "POST /v1/orders");
  EXPECT_EQ(rows[1].counts, counts(1, 0, 0, 0));
}

TEST_F(UsageRecorderTest, DaysAreUtcAndQueriedInclusively) {
  auto usage = recorder(db);
  usage->record("ptr_a", "GET /v1/usage", 200, false);
  now += 1s;  // 2026-11-27T00:00:00Z
  usage->record("ptr_a", "GET /v1/usage", 200, false);
  usage->record("ptr_a", "GET /v1/usage", 200, false);

  auto both = usage->query("ptr_a", "2026-11-26", "2026-11-27");
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].day, "2026-11-26");
  EXPECT_EQ(both[0].counts.requests, 1);
  EXPECT_EQ(both[1].day, "2026-11-27");
  EXPECT_EQ(both[1].counts.requests, 2);
  EXPECT_EQ(usage->query("ptr_a", "2026-11-27", "2026-12-31").size(), 1u);
  EXPECT_TRUE(usage->query("ptr_a", "2026-11-01", "2026-11-25").empty());
}

TEST_F(UsageRecorderTest, PartnersNeverSeeEachOther) {
  auto usage = recorder(db);
  usage->record("ptr_a", "GET /v1/orders", 200, false);
  usage->record("ptr_b", "GET /v1/orders", 200, false);
  usage->flush();
  usage->record("ptr_b", "GET /v1/orders", 200, false);
  auto rows = usage->query("ptr_a", "2026-01-01", "2026-12-31");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].counts.requests, 1);
  EXPECT_EQ(usage->query("ptr_b", "2026-01-01", "2026-12-31")[0].counts.requests, 2);
  EXPECT_TRUE(usage->query("ptr_c", "2026-01-01", "2026-12-31").empty());
}

TEST_F(UsageRecorderTest, FlushWritesDeltasThatAddUp) {
  auto usage = recorder(db);
  EXPECT_EQ(usage->flush(), 0u);
  usage->record("ptr_a", "GET /v1/products", 200, false);
  usage->record("ptr_a", "GET /v1/products", 500, false);
  usage->record("ptr_a", "GET /v1/orders", 200, false);
  EXPECT_EQ(usage->flush(), 2u);
  EXPECT_EQ(stored_rows(), 2);
  EXPECT_EQ(usage->flush(), 0u);  // nothing new

  usage->record("ptr_a", "GET /v1/products", 429, true);
  // Stored and unflushed are merged, not double counted.
  EXPECT_EQ(usage->query("ptr_a", "2026-11-26", "2026-11-26")[1].counts, counts(3, 1, 1, 1));
  EXPECT_EQ(usage->flush(), 1u);
  auto stored = db->query(
      "SELECT requests, errors_4xx, errors_5xx, rate_limited FROM usage_daily"
      " WHERE partner_id = 'ptr_a' AND route = 'GET /v1/products'");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].integer(0), 3);
  EXPECT_EQ(stored[0].integer(1), 1);
  EXPECT_EQ(stored[0].integer(2), 1);
  EXPECT_EQ(stored[0].integer(3), 1);
  EXPECT_EQ(usage->query("ptr_a", "2026-11-26", "2026-11-26")[1].counts, counts(3, 1, 1, 1));
}

// Each thread remembers the entry it counted in last; a flush drops an entry that counted
// nothing for an interval, and the next count goes into a new one, not into the dropped one.
// Neither does a thread's memory of one recorder reach another.
TEST_F(UsageRecorderTest, ARememberedEntryIsNeverCountedInAfterAFlushDroppedIt) {
  auto usage = recorder(db);
  for (int round = 0; round < 3; ++round) {
    usage->record("ptr_a", "GET /v1/products", 200, false);
    usage->record("ptr_a", "GET /v1/products", 200, false);
    EXPECT_EQ(usage->flush(), 1u);
    EXPECT_EQ(usage->flush(), 0u);  // the entry counted nothing since: dropped
  }
  usage->record("ptr_a", "GET /v1/products", 404, false);
  EXPECT_EQ(usage->query("ptr_a", "2026-11-26", "2026-11-26")[0].counts, counts(7, 1, 0, 0));
  EXPECT_EQ(usage->flush(), 1u);
  auto stored = db->query("SELECT requests, errors_4xx FROM usage_daily");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].integer(0), 7);
  EXPECT_EQ(stored[0].integer(1), 1);
  // A second recorder on the same thread, for the same partner and route, counts apart.
  auto other = recorder(db);
  other->record("ptr_a", "GET /v1/products", 200, false);
  usage->record("ptr_a", "GET /v1/products", 200, false);
  other->record("ptr_a", "GET /v1/products", 200, false);
  EXPECT_EQ(usage->flush(), 1u);
  EXPECT_EQ(other->flush(), 1u);
  EXPECT_EQ(db->query("SELECT requests FROM usage_daily")[0].integer(0), 7 + 1 + 2);
}

TEST_F(UsageRecorderTest, CountsSurviveARestart) {
  {
    auto usage = recorder(db);
    usage->record("ptr_a", "GET /v1/products", 200, false);
    usage->record("ptr_a", "GET /v1/products", 429, true);
    usage->flush();
  }
  db.reset();
  auto reopened = open();
  auto usage = recorder(reopened);
  usage->record("ptr_a", "GET /v1/products", 200, false);
  auto rows = usage->query("ptr_a", "2026-11-26", "2026-11-26");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].counts, counts(3, 1, 0, 1));
  usage->flush();
  db = reopened;
  EXPECT_EQ(stored_rows(), 1);
}

TEST_F(UsageRecorderTest, AFailedFlushKeepsTheCountsForTheNextOne) {
  auto usage = recorder(db);
  usage->record("ptr_a", "GET /v1/products", 200, false);
  db->execute("ALTER TABLE usage_daily RENAME TO usage_daily_away");
  EXPECT_THROW(usage->flush(), DatabaseError);
  usage->record("ptr_a", "GET /v1/products", 200, false);  // arrives meanwhile
  db->execute("ALTER TABLE usage_daily_away RENAME TO usage_daily");
  EXPECT_EQ(usage->flush(), 1u);
  EXPECT_EQ(usage->query("ptr_a", "2026-11-26", "2026-11-26")[0].counts.requests, 2);
  EXPECT_EQ(stored_rows(), 1);
}

TEST_F(UsageRecorderTest, ConcurrentRecordingFlushingAndQueryingGivesExactTotals) {
  auto usage = recorder(db);
  constexpr int kThreads = 8, kPerThread = 5000;
  const std::vector<std::string> routes = {"GET /v1/products", "GET /v1/orders", "POST /v1/orders"};
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::thread flusher([&] {
    while (!done) {
      usage->flush();
      std::this_thread::sleep_for(1ms);
    }
  });
  std::thread reader([&] {
    std::int64_t last = 0;
    while (!done) {
      std::int64_t total = 0;
      for (const auto& row : usage->query("ptr_0", "2026-11-26", "2026-11-26")) {
        total += row.counts.requests;
      }
      if (total < last) ++bad_reads;  // a count seen neither stored nor pending
      last = total;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string partner = "ptr_" + std::to_string((t + i) % 2);
        usage->record(partner, routes[static_cast<std::size_t>(i) % routes.size()],
                      i % 10 == 0 ? 429 : 200, i % 10 == 0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done = true;
  flusher.join();
  reader.join();
  usage->flush();

  EXPECT_EQ(bad_reads.load(), 0);
  UsageCounts total;
  for (const char* partner : {"ptr_0", "ptr_1"}) {
    for (const auto& row : usage->query(partner, "2026-11-26", "2026-11-26")) total += row.counts;
  }
  EXPECT_EQ(total.requests, kThreads * kPerThread);
  EXPECT_EQ(total.rate_limited, kThreads * kPerThread / 10);
  EXPECT_EQ(total.errors_4xx, kThreads * kPerThread / 10);
  auto stored = db->query("SELECT SUM(requests), SUM(rate_limited) FROM usage_daily");
  EXPECT_EQ(stored[0].integer(0), kThreads * kPerThread);
  EXPECT_EQ(stored[0].integer(1), kThreads * kPerThread / 10);
  EXPECT_EQ(stored_rows(), 6);
}

}  // namespace
}  // namespace portico::usage
