// The SQLite backend's statements: pragmas, Value round-trips, Row access, error mapping.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>
#include <thread>

#include "core/storage/sqlite_database.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::storage {
namespace {

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override { db = open_sqlite({.path = (dir / "data/portico.db").string()}); }

  test::TempDir dir;
  std::shared_ptr<Database> db;
};

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const DatabaseError& error) {
    return error.what();
  }
  return "no error";
}

TEST_F(SqliteDatabaseTest, OpensInWalModeAndCreatesParentDirectories) {
  EXPECT_TRUE(std::filesystem::exists(dir / "data/portico.db"));
  EXPECT_EQ(db->query("PRAGMA journal_mode").at(0).text(0), "wal");
  EXPECT_EQ(db->backend_name(), "sqlite");
}

TEST_F(SqliteDatabaseTest, WriterEnforcesForeignKeys) {
  db->execute_script(
      "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
      "CREATE TABLE child(parent_id INTEGER NOT NULL REFERENCES parent(id));");
  EXPECT_THROW(db->execute("INSERT INTO child(parent_id) VALUES (?)", {std::int64_t{42}}),
               ConstraintError);
}

TEST_F(SqliteDatabaseTest, RoundTripsEveryValueType) {
  db->execute("CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)");
  const std::string binary("a\0b\xff", 4);
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  db->execute("INSERT INTO t VALUES (?, ?, ?, CAST(? AS BLOB), ?)",
              {big, 2.5, std::string("héllo ✓"), binary, nullptr});

  auto rows = db->query("SELECT i, r, s, b, n FROM t");
  ASSERT_EQ(rows.size(), 1u);
  const Row& row = rows[0];
  ASSERT_EQ(row.size(), 5u);
  EXPECT_EQ(std::get<std::int64_t>(row.at(0)), big);
  EXPECT_EQ(std::get<double>(row.at(1)), 2.5);
  EXPECT_EQ(std::get<std::string>(row.at(2)), "héllo ✓");
  EXPECT_EQ(std::get<std::string>(row.at(3)), binary);
  EXPECT_TRUE(row.is_null(4));
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(row.at(4)));
}

TEST_F(SqliteDatabaseTest, EmptyStringIsNotNull) {
  auto row = db->query("SELECT ? AS s", {std::string()}).at(0);
  EXPECT_FALSE(row.is_null(0));
  EXPECT_EQ(row.text("s"), "");
}

TEST_F(SqliteDatabaseTest, RowsAreReadableByIndexAndColumnName) {
  db->execute("CREATE TABLE orders(id TEXT PRIMARY KEY, quantity INTEGER, price REAL, note TEXT)");
  db->execute("INSERT INTO orders VALUES (?, ?, ?, ?)",
              {std::string("ord_1"), std::int64_t{3}, 9.5, nullptr});
  db->execute("INSERT INTO orders VALUES (?, ?, ?, ?)",
              {std::string("ord_2"), std::int64_t{1}, 1.25, std::string("gift")});

  auto rows = db->query("SELECT id, quantity, price, note FROM orders ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text(0), "ord_1");
  EXPECT_EQ(rows[0].text("id"), "ord_1");
  EXPECT_EQ(rows[0].integer("quantity"), 3);
  EXPECT_EQ(rows[0].real("price"), 9.5);
  EXPECT_EQ(rows[0].optional_text("note"), std::nullopt);
  EXPECT_EQ(rows[1].optional_text("note"), "gift");
  EXPECT_EQ(rows[1].optional_integer(1), 1);
  EXPECT_EQ(rows[1].index_of("price"), 2u);
  EXPECT_THROW(rows[0].text("missing"), DatabaseError);
  EXPECT_THROW(rows[0].integer("id"), DatabaseError);
}

TEST_F(SqliteDatabaseTest, ExecuteReturnsRowsChanged) {
  db->execute("CREATE TABLE t(x INTEGER)");
  EXPECT_EQ(db->execute("INSERT INTO t VALUES (1), (2), (3)"), 3);
  EXPECT_EQ(db->execute("UPDATE t SET x = x + 1 WHERE x >= ?", {std::int64_t{2}}), 2);
  EXPECT_EQ(db->execute("UPDATE t SET x = 0 WHERE x > 100"), 0);
  EXPECT_EQ(db->execute("CREATE INDEX t_x ON t(x)"), 0);
  EXPECT_EQ(db->execute("DELETE FROM t"), 3);
}

TEST_F(SqliteDatabaseTest, QueryThatWritesRunsOnTheWriter) {
  db->execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)");
  auto rows = db->query("INSERT INTO t(name) VALUES (?) RETURNING id", {std::string("a")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].integer("id"), 1);
  EXPECT_EQ(db->query("SELECT count(*) FROM t").at(0).integer(0), 1);
}

TEST_F(SqliteDatabaseTest, ConstraintViolationIsConstraintError) {
  db->execute("CREATE TABLE partners(id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE)");
  db->execute("INSERT INTO partners VALUES (?, ?)",
              {std::string("p1"), std::string("a@example.com")});
  try {
    db->execute("INSERT INTO partners VALUES (?, ?)",
                {std::string("p2"), std::string("a@example.com")});
    FAIL() << "expected ConstraintError";
  } catch (const ConstraintError& error) {
    EXPECT_NE(std::string(error.what()).find("UNIQUE constraint failed: partners.email"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW(db->execute("INSERT INTO partners VALUES (?, NULL)", {std::string("p3")}),
               ConstraintError);
}

TEST_F(SqliteDatabaseTest, BadSqlIsDatabaseErrorNamingTheStatement) {
  std::string message = error_of([&] { db->query("SELEC nonsense FROM nowhere"); });
  EXPECT_NE(message.find("syntax error"), std::string::npos) << message;
  EXPECT_NE(message.find("SELEC nonsense FROM nowhere"), std::string::npos) << message;

  message = error_of([&] { db->query("SELECT * FROM missing_table"); });
  EXPECT_NE(message.find("no such table: missing_table"), std::string::npos) << message;

  std::string long_sql = "SELECT * FROM missing_table WHERE " + std::string(200, 'x') + " = 1";
  message = error_of([&] { db->execute(long_sql); });
  EXPECT_EQ(message.find(std::string(100, 'x')), std::string::npos) << "SQL not cut: " << message;
  EXPECT_NE(message.find("…"), std::string::npos) << message;

  EXPECT_THROW(db->execute_script("CREATE TABLE ok(x); CREATE TABLE (;"), DatabaseError);
  // Still usable afterwards.
  EXPECT_EQ(db->query("SELECT 1").at(0).integer(0), 1);
}

TEST_F(SqliteDatabaseTest, RefusesMisusedStatements) {
  db->execute("CREATE TABLE t(x INTEGER)");
  EXPECT_NE(error_of([&] {
              db->execute("INSERT INTO t VALUES (?)");
            }).find("expected 1 parameters, got 0"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              db->execute("INSERT INTO t VALUES (:x)", {std::int64_t{1}});
            }).find("only ? placeholders"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              db->execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)");
            }).find("one statement per call"),
            std::string::npos);
  EXPECT_THROW(db->query("   "), DatabaseError);
  // A trailing semicolon or comment is fine.
  EXPECT_EQ(db->execute("INSERT INTO t VALUES (1); -- done"), 1);
  EXPECT_EQ(db->query("SELECT count(*) FROM t").at(0).integer(0), 1);
}

TEST_F(SqliteDatabaseTest, RefusesTransactionStatementsOutsideTransaction) {
  db->execute("CREATE TABLE t(x INTEGER)");
  EXPECT_THROW(db->execute("BEGIN"), DatabaseError);
  EXPECT_THROW(db->query("BEGIN"), DatabaseError);
  // Neither the writer nor a reader was left inside a transaction.
  db->execute("INSERT INTO t VALUES (1)");
  auto other = open_sqlite({.path = (dir / "data/portico.db").string(), .readers = 1});
  EXPECT_EQ(other->query("SELECT count(*) FROM t").at(0).integer(0), 1);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(db->query("SELECT count(*) FROM t").at(0).integer(0), 1);
}

TEST_F(SqliteDatabaseTest, ReadersSeeSchemaChangesMadeAfterTheyCached) {
  db->execute("CREATE TABLE t(a INTEGER)");
  db->execute("INSERT INTO t VALUES (1)");
  for (int i = 0; i < 8; ++i) EXPECT_EQ(db->query("SELECT * FROM t").at(0).size(), 1u);
  db->execute("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'");
  for (int i = 0; i < 8; ++i) {
    auto row = db->query("SELECT * FROM t").at(0);
    ASSERT_EQ(row.size(), 2u);
    EXPECT_EQ(row.text("b"), "x");
  }
}

TEST_F(SqliteDatabaseTest, ManyDistinctStatementsDoNotBreakTheCache) {
  for (int i = 0; i < 600; ++i) {
    EXPECT_EQ(db->query("SELECT " + std::to_string(i)).at(0).integer(0), i);
  }
}

// Commits that never pause, with point reads running all the while: PASSIVE checkpoints alone
// never let the log start over (it grew to 1.2 GB in 30 s of orders). ~75 MB of commits must
// leave a log of a few restart thresholds (16 MiB each, one 100 ms round), not all of it.
TEST_F(SqliteDatabaseTest, TheWalStartsOverUnderCommitsThatNeverPause) {
  db->execute("CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  std::atomic<bool> writing{true};
  std::thread reader([&] {
    for (std::int64_t id = 1; writing; id = id % 20000 + 1) {
      db->query("SELECT length(data) FROM blobs WHERE id = ?", {id});
    }
  });
  const std::string data(3000, 'x');
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int i = 0; i < 25000 && std::chrono::steady_clock::now() < deadline; ++i) {
    db->execute("INSERT INTO blobs(data) VALUES (?)", {data});
  }
  writing = false;
  reader.join();
  const auto wal = dir / "data/portico.db-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_LT(std::filesystem::file_size(wal), 96u * 1024 * 1024);  // ~220 MB without restarts
  EXPECT_EQ(db->query("SELECT count(*) FROM blobs").front().integer(0), 25000);
}

TEST(OpenSqliteTest, RefusesInMemoryAndUnopenablePaths) {
  EXPECT_THROW(open_sqlite({.path = ":memory:"}), DatabaseError);
  EXPECT_THROW(open_sqlite({.path = ""}), DatabaseError);

  test::TempDir dir;
  auto not_a_db = dir.write("junk.db", std::string(4096, 'j'));
  std::string message = error_of([&] { open_sqlite({.path = not_a_db.string()}); });
  EXPECT_NE(message.find(not_a_db.string()), std::string::npos) << message;
}

TEST(OpenSqliteTest, WorksWithoutReaders) {
  test::TempDir dir;
  auto db = open_sqlite({.path = (dir / "x.db").string(), .readers = 0});
  db->execute("CREATE TABLE t(x)");
  db->execute("INSERT INTO t VALUES (7)");
  EXPECT_EQ(db->query("SELECT x FROM t").at(0).integer(0), 7);
}

}  // namespace
}  // namespace portico::storage

namespace portico::storage {
namespace {

// What lets a cache skip the database: the write generation moves with every write call (after
// it has committed), including failed ones, and never with a read.
TEST(SqliteWriteGeneration, MovesWithEveryWriteAndNeverWithARead) {
  test::TempDir dir;
  auto db = open_sqlite({.path = (dir / "g.db").string()});
  auto g = db->write_generation();
  db->execute_script("CREATE TABLE t(x INTEGER PRIMARY KEY)");
  EXPECT_GT(db->write_generation(), g);
  g = db->write_generation();
  db->query("SELECT count(*) FROM t");
  EXPECT_EQ(db->write_generation(), g) << "a read is not a write";
  db->execute("INSERT INTO t(x) VALUES (1)");
  EXPECT_GT(db->write_generation(), g);
  g = db->write_generation();
  db->transaction([&](Session& s) {
    s.execute("INSERT INTO t(x) VALUES (2)");
    EXPECT_EQ(db->write_generation(), g) << "not before the commit";
  });
  EXPECT_GT(db->write_generation(), g);
  g = db->write_generation();
  EXPECT_THROW(db->transaction([](Session& s) {
    s.execute("INSERT INTO t(x) VALUES (3)");
    throw std::runtime_error("changed my mind");
  }),
               std::runtime_error);
  EXPECT_GT(db->write_generation(), g) << "counted even when rolled back: never too few";
  g = db->write_generation();
  db->query("INSERT INTO t(x) VALUES (4) RETURNING x");
  EXPECT_GT(db->write_generation(), g) << "a writing query goes to the writer and counts";
}

// The core's bookkeeping (usage counters, keys' last use) is written without moving it, so a
// plugin's cache is not sent back to the database by the 5-second flushes; the data is committed
// all the same, and a batch it shares with a counted transaction counts.
TEST(SqliteWriteGeneration, BookkeepingWritesDoNotMoveIt) {
  test::TempDir dir;
  auto db = open_sqlite({.path = (dir / "g.db").string()});
  db->execute_script("CREATE TABLE t(x INTEGER PRIMARY KEY)");
  const auto g = db->write_generation();
  bookkeeping_transaction(*db, [](Session& s) { s.execute("INSERT INTO t(x) VALUES (1)"); });
  EXPECT_EQ(db->write_generation(), g);
  // Nor later: the 100 ms check for other processes' commits does not take this process's own
  // for one.
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  EXPECT_EQ(db->write_generation(), g);
  EXPECT_EQ(db->query("SELECT count(*) FROM t").at(0).integer(0), 1) << "committed all the same";
  EXPECT_THROW(bookkeeping_transaction(*db,
                                       [](Session& s) {
                                         s.execute("INSERT INTO t(x) VALUES (2)");
                                         throw std::runtime_error("rolled back");
                                       }),
               std::runtime_error);
  EXPECT_EQ(db->query("SELECT count(*) FROM t").at(0).integer(0), 1);

  // Side by side with counted transactions from other threads: whenever a counted one commits,
  // the generation moves, whatever batch it shared.
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const int x = 1000 + t * 100 + i;
        if (t % 2 == 0) {
          bookkeeping_transaction(*db, [&](Session& s) {
            s.execute("INSERT INTO t(x) VALUES (?)", {std::int64_t{x}});
          });
        } else {
          const auto before = db->write_generation();
          db->transaction([&](Session& s) {
            s.execute("INSERT INTO t(x) VALUES (?)", {std::int64_t{x}});
          });
          EXPECT_GT(db->write_generation(), before);
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(db->query("SELECT count(*) FROM t").at(0).integer(0), 201);
}

TEST(SqliteWriteGeneration, ACommitFromAnotherConnectionIsSeenWithinARound) {
  test::TempDir dir;
  const std::string path = (dir / "g.db").string();
  // Another writer of the same file (another process, for the gateway), and how long the
  // generation takes to move after its commit.
  auto commit_from_outside = [&](int x) {
    sqlite3* other = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(other, ("INSERT INTO t(x) VALUES (" + std::to_string(x) + ")").c_str(),
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(other);
  };
  auto moved_within_two_seconds = [](Database& db, std::uint64_t g) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (db.write_generation() == g && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return db.write_generation() > g;
  };
  {
    auto db = open_sqlite({.path = path});
    db->execute_script("CREATE TABLE t(x INTEGER PRIMARY KEY)");
  }
  // Before the checkpointer's first round: its baseline is the database as it was opened, so a
  // commit landing before that round is not taken for the starting point.
  auto db = open_sqlite({.path = path});
  auto g = db->write_generation();
  commit_from_outside(7);
  EXPECT_TRUE(moved_within_two_seconds(*db, g)) << "a commit before the first round";
  // And after some rounds.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  g = db->write_generation();
  commit_from_outside(8);
  EXPECT_TRUE(moved_within_two_seconds(*db, g)) << "a commit after some rounds";
}

}  // namespace
}  // namespace portico::storage
