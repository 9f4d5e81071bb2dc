// Throughput of small write transactions from many threads, with group commit and without (one
// transaction per commit, as before group commit). Prints the figures; asserts only that nothing
// was lost — timings depend on the machine and are never checked.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/storage/sqlite_database.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::storage {
namespace {

constexpr int kThreads = 8;
constexpr int kTransactionsPerThread = 500;

double transactions_per_second(SqliteOptions options, int threads) {
  test::TempDir dir;
  options.path = (dir / "throughput.db").string();
  auto db = open_sqlite(options);
  db->execute(
      "CREATE TABLE events(id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, seq INTEGER NOT NULL,"
      " note TEXT NOT NULL)");
  db->execute("CREATE INDEX events_writer ON events(writer, seq)");

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> writers;
  for (int w = 0; w < threads; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kTransactionsPerThread; ++i) {
        db->transaction([&](Session& tx) {
          for (int k = 0; k < 3; ++k) {
            tx.execute("INSERT INTO events(writer, seq, note) VALUES (?, ?, ?)",
                       {std::int64_t{w}, std::int64_t{i * 3 + k}, std::string(40, 'x')});
          }
        });
      }
    });
  }
  for (auto& writer : writers) writer.join();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(db->query("SELECT count(*) FROM events").at(0).integer(0),
            threads * kTransactionsPerThread * 3);
  return threads * kTransactionsPerThread / elapsed.count();
}

// Rounds alternate between the configurations, so a neighbour's load spreads over all of them;
// the median of each is printed.
TEST(GroupCommitThroughput, EightWritersThreeInsertsEach) {
  constexpr int kRounds = 3;
  SqliteOptions one_commit_each;
  one_commit_each.group_commit_limit = 1;
  std::vector<double> grouped, alone, single;
  for (int round = 0; round < kRounds; ++round) {
    grouped.push_back(transactions_per_second({}, kThreads));
    alone.push_back(transactions_per_second(one_commit_each, kThreads));
    single.push_back(transactions_per_second({}, 1));
  }
  const auto median = [](std::vector<double> figures) {
    std::sort(figures.begin(), figures.end());
    return figures[figures.size() / 2];
  };
  std::printf(
      "[ figures  ] %d threads x %d transactions of 3 inserts: %.0f transactions/s with group "
      "commit, %.0f with one commit each; one thread alone: %.0f\n",
      kThreads, kTransactionsPerThread, median(grouped), median(alone), median(single));
}

}  // namespace
}  // namespace portico::storage
