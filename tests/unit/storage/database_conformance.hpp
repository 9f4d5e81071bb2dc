// The conformance suite every Database backend passes (plugin_api/portico/database.hpp): Values
// in and out, transactions, constraint errors, the write generation, the Session's lifetime and
// many threads writing at once. A backend instantiates it in a file of its own, with a type whose
// static open() is its DatabaseFactory:
//
//   struct PostgresBackend {
//     static constexpr const char* name = "postgres";
//     // A new, empty database; scratch_dir is the test's own and removed afterwards.
//     static std::shared_ptr<Database> open(const std::filesystem::path& scratch_dir);
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, DatabaseConformance, PostgresBackend,
//                                  portico::test::BackendName);
//
// (A type-parameterised suite, unlike TEST_P in a header, may be instantiated from several files
// of one test binary.)
//
// The SQL below is all the suite relies on, and so all a plugin may rely on from every backend:
//  - one statement per query()/execute(), `?` placeholders; execute_script() without parameters;
//  - CREATE TABLE with column types INTEGER (64-bit signed), REAL (8-byte double) and TEXT (any
//    bytes, NUL and UTF-8 included, read back unchanged), NOT NULL, PRIMARY KEY (one column or
//    several), UNIQUE, REFERENCES parent(column) checked at each statement;
//  - INSERT with a column list and VALUES (no key assigned by the database: ids are given),
//    SELECT with WHERE (=, >=, IS NULL) / ORDER BY / count(*), UPDATE ... SET n = n + 1, DELETE;
//  - reading back: INTEGER and count(*) as int64_t, REAL as double, TEXT as std::string, NULL as
//    nullptr.
// A backend whose database spells these differently (PostgreSQL: INTEGER is 32-bit, REAL is
// 4-byte, TEXT refuses NUL, `?` is `$1`) translates them. Nothing else — no SQLite-only
// statement, no behaviour after an error inside a transaction that the body caught — is promised.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "portico/database.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::test {

using DatabaseFactory =
    std::function<std::shared_ptr<Database>(const std::filesystem::path& scratch_dir)>;

// Names instantiations after the backend (`Sqlite/DatabaseConformance/sqlite.…`).
struct BackendName {
  template <typename Backend>
  static std::string GetName(int) {
    return Backend::name;
  }
};

// Thrown by bodies: must come out of transaction() as it went in.
class BodyFailure : public std::runtime_error {
 public:
  BodyFailure(std::string what, int code) : std::runtime_error(std::move(what)), code(code) {}
  int code;
};

template <typename Backend>
class DatabaseConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    const DatabaseFactory open = &Backend::open;
    db = open(dir.path());
    ASSERT_NE(db, nullptr);
  }

  std::int64_t count(const std::string& table) {
    return db->query("SELECT count(*) FROM " + table).at(0).integer(0);
  }

  // Runs `work(thread)` on `threads` threads at once and waits for all of them.
  static void on_threads(int threads, const std::function<void(int)>& work) {
    std::vector<std::thread> running;
    for (int t = 0; t < threads; ++t) running.emplace_back(work, t);
    for (auto& thread : running) thread.join();
  }

  TempDir dir;
  std::shared_ptr<Database> db;
};

TYPED_TEST_SUITE_P(DatabaseConformance);

TYPED_TEST_P(DatabaseConformance, RoundTripsEveryValueType) {
  auto& db = *this->db;
  db.execute("CREATE TABLE v(id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT)");
  const std::string nul_inside("a\0b", 3);
  const std::string utf8 = "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80";  // héllo ✓ 😀
  const std::vector<std::tuple<std::int64_t, Value, Value, Value>> rows = {
      {1, std::numeric_limits<std::int64_t>::max(), 2.5, utf8},
      {2, std::numeric_limits<std::int64_t>::min(), -1.0e-300, nul_inside},
      {3, std::int64_t{0}, 0.1, std::string()},
      {4, std::int64_t{-1}, 1.0e300, std::string(10000, 'x')},
      {5, nullptr, nullptr, nullptr},
  };
  for (const auto& [id, i, r, s] : rows) {
    EXPECT_EQ(db.execute("INSERT INTO v(id, i, r, s) VALUES (?, ?, ?, ?)", {id, i, r, s}), 1);
  }
  const Rows read = db.query("SELECT id, i, r, s FROM v ORDER BY id");
  ASSERT_EQ(read.size(), rows.size());
  for (std::size_t n = 0; n < rows.size(); ++n) {
    const auto& [id, i, r, s] = rows[n];
    SCOPED_TRACE("row " + std::to_string(id));
    ASSERT_EQ(read[n].size(), 4u);
    EXPECT_EQ(read[n].at(0), Value(id));
    EXPECT_EQ(read[n].at("i"), i);
    EXPECT_EQ(read[n].at("r"), r);
    EXPECT_EQ(read[n].at("s"), s);
  }
  // Parameters in a WHERE clause match stored values of each type.
  EXPECT_EQ(db.query("SELECT id FROM v WHERE s = ?", {nul_inside}).at(0).integer(0), 2);
  EXPECT_EQ(db.query("SELECT id FROM v WHERE s = ?", {utf8}).at(0).integer(0), 1);
  EXPECT_EQ(db.query("SELECT id FROM v WHERE i = ?", {std::numeric_limits<std::int64_t>::min()})
                .at(0)
                .integer(0),
            2);
  EXPECT_EQ(db.query("SELECT id FROM v WHERE r = ?", {0.1}).at(0).integer(0), 3);
  EXPECT_TRUE(db.query("SELECT id FROM v WHERE s = ?", {std::string("nothing")}).empty());
  EXPECT_EQ(db.query("SELECT count(*) FROM v WHERE i IS NULL").at(0).at(0), Value(std::int64_t{1}));
}

TYPED_TEST_P(DatabaseConformance, ExecuteCountsRowsChanged) {
  auto& db = *this->db;
  EXPECT_EQ(db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"), 0);
  for (std::int64_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(db.execute("INSERT INTO t(id, n) VALUES (?, ?)", {id, id * 10}), 1);
  }
  EXPECT_EQ(db.execute("UPDATE t SET n = n + 1 WHERE n >= ?", {std::int64_t{20}}), 2);
  EXPECT_EQ(db.execute("UPDATE t SET n = 0 WHERE id = ?", {std::int64_t{99}}), 0);
  EXPECT_EQ(db.execute("DELETE FROM t WHERE id = ?", {std::int64_t{1}}), 1);
  EXPECT_EQ(db.query("SELECT n FROM t ORDER BY id").at(1).integer(0), 31);
  db.execute_script(
      "INSERT INTO t(id, n) VALUES (7, 7);\n"
      "INSERT INTO t(id, n) VALUES (8, 8);");
  EXPECT_EQ(this->count("t"), 4);
}

TYPED_TEST_P(DatabaseConformance, CommitsWhenTheBodyReturns) {
  auto& db = *this->db;
  db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  db.transaction([](Session& tx) {
    EXPECT_EQ(tx.execute("INSERT INTO t(id, name) VALUES (1, 'a')"), 1);
    tx.execute("INSERT INTO t(id, name) VALUES (?, ?)", {std::int64_t{2}, std::string("b")});
    EXPECT_EQ(tx.query("SELECT count(*) FROM t").at(0).integer(0), 2) << "sees its own writes";
    tx.execute_script("UPDATE t SET name = 'c' WHERE id = 2;");
  });
  EXPECT_EQ(this->count("t"), 2);
  EXPECT_EQ(db.query("SELECT name FROM t WHERE id = 2").at(0).text(0), "c");
}

TYPED_TEST_P(DatabaseConformance, RollsBackAndRethrowsTheBodysExceptionUnchanged) {
  auto& db = *this->db;
  db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)");
  db.execute("INSERT INTO t(id) VALUES (1)");
  try {
    db.transaction([](Session& tx) {
      tx.execute("INSERT INTO t(id) VALUES (2)");
      tx.execute("DELETE FROM t WHERE id = 1");
      throw BodyFailure("business rule", 42);
    });
    FAIL() << "the body's exception was swallowed";
  } catch (const BodyFailure& failure) {
    EXPECT_STREQ(failure.what(), "business rule");
    EXPECT_EQ(failure.code, 42);
  }
  // Not a DatabaseError either: any type comes through.
  EXPECT_THROW(db.transaction([](Session&) { throw 7; }), int);
  EXPECT_EQ(db.query("SELECT id FROM t").size(), 1u);
  EXPECT_EQ(db.query("SELECT id FROM t").at(0).integer(0), 1);
  // Usable again afterwards.
  db.transaction([](Session& tx) { tx.execute("INSERT INTO t(id) VALUES (3)"); });
  EXPECT_EQ(this->count("t"), 2);
}

TYPED_TEST_P(DatabaseConformance, ConstraintViolationsAreConstraintErrors) {
  auto& db = *this->db;
  db.execute_script(
      "CREATE TABLE parent(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n"
      "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES "
      "parent(id));\n"
      "CREATE TABLE pair(a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));");
  db.execute("INSERT INTO parent(id, email) VALUES (1, 'a@example.com')");
  db.execute("INSERT INTO child(id, parent_id) VALUES (1, 1)");
  db.execute("INSERT INTO pair(a, b) VALUES (1, 1)");

  const std::vector<std::pair<std::string, Params>> violations = {
      {"INSERT INTO parent(id, email) VALUES (?, ?)",  // UNIQUE
       {std::int64_t{2}, std::string("a@example.com")}},
      {"INSERT INTO parent(id, email) VALUES (?, ?)",  // PRIMARY KEY
       {std::int64_t{1}, std::string("b@example.com")}},
      {"INSERT INTO pair(a, b) VALUES (?, ?)", {std::int64_t{1}, std::int64_t{1}}},
      {"INSERT INTO child(id, parent_id) VALUES (?, ?)",  // REFERENCES, a missing parent
       {std::int64_t{2}, std::int64_t{99}}},
      {"DELETE FROM parent WHERE id = ?", {std::int64_t{1}}},  // REFERENCES, a parent in use
      {"INSERT INTO parent(id, email) VALUES (?, ?)",          // NOT NULL
       {std::int64_t{3}, nullptr}},
  };
  for (const auto& [sql, params] : violations) {
    SCOPED_TRACE(sql);
    EXPECT_THROW(db.execute(sql, params), ConstraintError);
    EXPECT_THROW(db.transaction([&](Session& tx) {
      tx.execute("INSERT INTO pair(a, b) VALUES (2, 2)");
      tx.execute(sql, params);
    }),
                 ConstraintError);
  }
  EXPECT_EQ(this->count("parent"), 1);
  EXPECT_EQ(this->count("child"), 1);
  EXPECT_EQ(this->count("pair"), 1) << "the transactions' other writes were rolled back";
}

TYPED_TEST_P(DatabaseConformance, WriteGenerationMovesWithEveryWriteAndNotWithReads) {
  auto& db = *this->db;
  // A read never moves it; a backend may move it in the background for its own reasons (SQLite
  // does once after a commit), so one of a few tries must see it still.
  const auto unmoved_by_a_read = [&](const std::function<void()>& read) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      const auto before = db.write_generation();
      read();
      if (db.write_generation() == before) return true;
    }
    return false;
  };
  auto moved_by = [&](const std::function<void()>& write) {
    const auto before = db.write_generation();
    try {
      write();
    } catch (const std::exception&) {
    }
    return db.write_generation() != before;  // read at once: before the call returned
  };
  EXPECT_TRUE(moved_by([&] { db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER)"); }));
  EXPECT_TRUE(moved_by([&] { db.execute("INSERT INTO t(id, n) VALUES (1, 0)"); }));
  EXPECT_TRUE(moved_by([&] { db.execute("UPDATE t SET n = n + 1"); }));
  EXPECT_TRUE(moved_by([&] { db.execute_script("INSERT INTO t(id, n) VALUES (2, 0);"); }));
  EXPECT_TRUE(moved_by([&] {
    db.transaction([](Session& tx) { tx.execute("INSERT INTO t(id, n) VALUES (3, 0)"); });
  }));
  EXPECT_TRUE(moved_by([&] {
    db.transaction([](Session& tx) {
      tx.execute("INSERT INTO t(id, n) VALUES (4, 0)");
      throw BodyFailure("rolled back", 1);
    });
  })) << "counted even when rolled back: never too few";
  EXPECT_TRUE(moved_by([&] { db.execute("DELETE FROM t WHERE id = 3"); }));

  EXPECT_TRUE(unmoved_by_a_read([&] { db.query("SELECT count(*) FROM t"); }));
  EXPECT_TRUE(
      unmoved_by_a_read([&] { db.query("SELECT n FROM t WHERE id = ?", {std::int64_t{1}}); }));
}

TYPED_TEST_P(DatabaseConformance, ASessionUsedAfterItsTransactionEndedThrows) {
  auto& db = *this->db;
  db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)");
  Session* kept = nullptr;
  db.transaction([&](Session& tx) {
    tx.execute("INSERT INTO t(id) VALUES (1)");
    kept = &tx;
  });
  ASSERT_NE(kept, nullptr);
  EXPECT_THROW(kept->execute("INSERT INTO t(id) VALUES (2)"), DatabaseError);
  EXPECT_THROW(kept->query("SELECT count(*) FROM t"), DatabaseError);
  EXPECT_THROW(kept->execute_script("INSERT INTO t(id) VALUES (3);"), DatabaseError);

  EXPECT_THROW(db.transaction([&](Session& tx) {
    kept = &tx;
    throw BodyFailure("rolled back", 1);
  }),
               BodyFailure);
  EXPECT_THROW(kept->execute("INSERT INTO t(id) VALUES (4)"), DatabaseError);
  EXPECT_EQ(this->count("t"), 1);
}

TYPED_TEST_P(DatabaseConformance, ANestedTransactionThrowsInsteadOfWaiting) {
  auto& db = *this->db;
  db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)");
  bool refused = false;
  EXPECT_THROW(db.transaction([&](Session& tx) {
    tx.execute("INSERT INTO t(id) VALUES (1)");
    try {
      db.transaction([](Session& inner) { inner.execute("INSERT INTO t(id) VALUES (2)"); });
    } catch (const DatabaseError&) {
      refused = true;
      throw;
    }
  }),
               DatabaseError);
  EXPECT_TRUE(refused);
  EXPECT_EQ(this->count("t"), 0);
  db.transaction([](Session& tx) { tx.execute("INSERT INTO t(id) VALUES (3)"); });
  EXPECT_EQ(this->count("t"), 1);
}

TYPED_TEST_P(DatabaseConformance, ConcurrentWritersLoseNothing) {
  constexpr int kThreads = 8;
  constexpr int kTransactions = 200;
  auto& db = *this->db;
  db.execute_script(
      "CREATE TABLE counter(id INTEGER PRIMARY KEY, n INTEGER NOT NULL);\n"
      "INSERT INTO counter(id, n) VALUES (1, 0);\n"
      "CREATE TABLE row_log(writer INTEGER NOT NULL, seq INTEGER NOT NULL,"
      " PRIMARY KEY (writer, seq));");
  std::atomic<int> errors{0};
  std::atomic<int> generation_stood_still{0};
  this->on_threads(kThreads, [&](int writer) {
    for (int seq = 0; seq < kTransactions; ++seq) {
      const auto before = db.write_generation();
      try {
        db.transaction([&](Session& tx) {
          tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1");
          tx.execute("INSERT INTO row_log(writer, seq) VALUES (?, ?)",
                     {std::int64_t{writer}, std::int64_t{seq}});
        });
      } catch (const std::exception& error) {
        ADD_FAILURE() << error.what();
        ++errors;
      }
      if (db.write_generation() == before) ++generation_stood_still;
    }
  });
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(generation_stood_still.load(), 0) << "a transaction's call returned before the move";
  EXPECT_EQ(db.query("SELECT n FROM counter WHERE id = 1").at(0).integer(0),
            kThreads * kTransactions);
  EXPECT_EQ(this->count("row_log"), kThreads * kTransactions);
}

// With group commit, concurrent transactions share one commit: a body that throws must take only
// its own writes with it.
TYPED_TEST_P(DatabaseConformance, AFailingBodyAmongConcurrentWritersRollsBackOnlyItsOwnRows) {
  constexpr int kThreads = 8;
  constexpr int kTransactions = 60;
  auto& db = *this->db;
  db.execute(
      "CREATE TABLE rows_written(writer INTEGER NOT NULL, seq INTEGER NOT NULL, part INTEGER NOT "
      "NULL, PRIMARY KEY (writer, seq, part))");
  // Every fifth transaction of a writer fails after writing, at a different place per writer.
  const auto fails = [](int writer, int seq) { return (seq + writer) % 5 == 0; };
  std::atomic<int> unexpected{0};
  std::atomic<int> failures_seen{0};
  this->on_threads(kThreads, [&](int writer) {
    for (int seq = 0; seq < kTransactions; ++seq) {
      try {
        db.transaction([&](Session& tx) {
          for (std::int64_t part = 0; part < 3; ++part) {
            tx.execute("INSERT INTO rows_written(writer, seq, part) VALUES (?, ?, ?)",
                       {std::int64_t{writer}, std::int64_t{seq}, part});
            if (part == 1 && fails(writer, seq)) throw BodyFailure("fails", seq);
          }
        });
        if (fails(writer, seq)) ++unexpected;
      } catch (const BodyFailure& failure) {
        if (!fails(writer, seq) || failure.code != seq) ++unexpected;
        ++failures_seen;
      } catch (const std::exception& error) {
        ADD_FAILURE() << error.what();
        ++unexpected;
      }
    }
  });
  EXPECT_EQ(unexpected.load(), 0);
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> expected;
  int expected_failures = 0;
  for (int writer = 0; writer < kThreads; ++writer) {
    for (int seq = 0; seq < kTransactions; ++seq) {
      if (fails(writer, seq)) {
        ++expected_failures;
        continue;
      }
      for (std::int64_t part = 0; part < 3; ++part) expected.emplace(writer, seq, part);
    }
  }
  EXPECT_EQ(failures_seen.load(), expected_failures);
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> stored;
  for (const Row& row : db.query("SELECT writer, seq, part FROM rows_written")) {
    stored.emplace(row.integer(0), row.integer(1), row.integer(2));
  }
  EXPECT_EQ(stored.size(), expected.size());
  EXPECT_TRUE(stored == expected) << "rows of failed bodies kept, or others' rows lost";
}

TYPED_TEST_P(DatabaseConformance, AReaderOutsideTheTransactionNeverSeesUncommittedRows) {
  constexpr int kWriters = 4;
  constexpr int kTransactions = 100;
  auto& db = *this->db;
  db.execute(
      "CREATE TABLE t(writer INTEGER NOT NULL, seq INTEGER NOT NULL, part INTEGER NOT NULL,"
      " PRIMARY KEY (writer, seq, part))");

  // While a body is running, another thread reads.
  db.transaction([&](Session& tx) {
    tx.execute("INSERT INTO t(writer, seq, part) VALUES (-1, 0, 0)");
    std::int64_t seen = -1;
    std::thread reader([&] { seen = this->count("t"); });
    reader.join();
    EXPECT_EQ(seen, 0);
  });
  EXPECT_EQ(this->count("t"), 1);
  db.execute("DELETE FROM t");

  // Transactions of three rows each, committed while readers count: a count that is not a
  // multiple of three saw part of a transaction; one that goes down saw rows not yet committed.
  std::atomic<bool> writing{true};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      std::int64_t last = 0;
      while (writing.load() || reads.load() < 2) {
        const std::int64_t now = this->count("t");
        if (now % 3 != 0 || now < last) ++torn;
        last = now;
        ++reads;
      }
    });
  }
  this->on_threads(kWriters, [&](int writer) {
    for (int seq = 0; seq < kTransactions; ++seq) {
      try {
        db.transaction([&](Session& tx) {
          for (std::int64_t part = 0; part < 3; ++part) {
            tx.execute("INSERT INTO t(writer, seq, part) VALUES (?, ?, ?)",
                       {std::int64_t{writer}, std::int64_t{seq}, part});
          }
          // Some bodies fail after writing: a reader must not see those rows either.
          if (seq % 7 == 3) throw BodyFailure("not this one", seq);
        });
      } catch (const BodyFailure&) {
      }
    }
  });
  writing = false;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  int failing = 0;
  for (int seq = 0; seq < kTransactions; ++seq) failing += seq % 7 == 3 ? 1 : 0;
  EXPECT_EQ(this->count("t"), 3 * kWriters * (kTransactions - failing));
}

REGISTER_TYPED_TEST_SUITE_P(DatabaseConformance, RoundTripsEveryValueType, ExecuteCountsRowsChanged,
                            CommitsWhenTheBodyReturns,
                            RollsBackAndRethrowsTheBodysExceptionUnchanged,
                            ConstraintViolationsAreConstraintErrors,
                            WriteGenerationMovesWithEveryWriteAndNotWithReads,
                            ASessionUsedAfterItsTransactionEndedThrows,
                            ANestedTransactionThrowsInsteadOfWaiting, ConcurrentWritersLoseNothing,
                            AFailingBodyAmongConcurrentWritersRollsBackOnlyItsOwnRows,
                            AReaderOutsideTheTransactionNeverSeesUncommittedRows);

}  // namespace portico::test
