// Group commit in the SQLite backend (core/storage/group_commit.hpp): bodies queued behind a
// running transaction share the next commit, and what one body does to the shared transaction —
// throwing, having SQLite roll it back, breaking a deferred constraint, a failing BEGIN — is
// never reported as another body's success or failure. Batches are formed on purpose: a first
// caller holds the writer until the callers of the batch have queued, in order.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/storage/group_commit.hpp"
#include "core/storage/sqlite_connection.hpp"
#include "core/storage/sqlite_database.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::storage::detail {
namespace {

using namespace std::chrono_literals;

// Polls (bounded) until `done()`; false if it never was.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class BodyFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string message_of(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

template <typename E>
bool is(const std::exception_ptr& error) {
  try {
    if (error) std::rethrow_exception(error);
  } catch (const E&) {
    return true;
  } catch (...) {
  }
  return false;
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { open(64); }

  void open(std::size_t max_batch) {
    // No busy timeout: a lock held by another connection fails BEGIN at once.
    writer = std::make_unique<SqliteConnection>(path(), SqliteConnection::Mode::read_write, 0ms);
    writer->query("PRAGMA journal_mode=WAL", {});
    writer->execute("PRAGMA foreign_keys=ON", {});
    writer->execute("CREATE TABLE IF NOT EXISTS items(name TEXT PRIMARY KEY)", {});
    group = std::make_unique<GroupCommit>(
        [this](const std::function<void(SqliteConnection&)>& work, bool /*counted*/) {
          std::lock_guard lock(writer_mutex);
          ++accesses;
          // Another connection (another process, say) holds the write lock for this batch.
          const bool locked_out = other && lock_out_next_batch.exchange(false);
          if (locked_out) {
            ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
          }
          work(*writer);
          if (locked_out) sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
        },
        max_batch);
  }

  std::string path() const { return (dir / "group.db").string(); }

  std::vector<std::string> names() {
    std::vector<std::string> out;
    for (const Row& row : writer->query("SELECT name FROM items ORDER BY name", {})) {
      out.push_back(row.text(0));
    }
    return out;
  }

  // Runs `bodies` as one batch, in this order, and returns what each caller's run() threw.
  // A first caller's transaction holds the writer until all have queued.
  std::vector<std::exception_ptr> as_one_batch(const std::vector<GroupCommit::Body>& bodies) {
    std::atomic<bool> holding{false};
    std::atomic<bool> release{false};
    std::thread first([&] {
      group->run([&](Session&) {
        holding = true;
        EXPECT_TRUE(eventually([&] { return release.load(); }));
      });
    });
    EXPECT_TRUE(eventually([&] { return holding.load(); }));
    std::vector<std::exception_ptr> errors(bodies.size());
    std::vector<std::thread> callers;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      callers.emplace_back([&, i] {
        try {
          group->run(bodies[i]);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
      EXPECT_TRUE(eventually([&] { return group->waiting() == i + 1; }));
    }
    const int accesses_before = accesses;
    release = true;
    first.join();
    for (auto& caller : callers) caller.join();
    EXPECT_EQ(accesses - accesses_before, 1) << "the queued bodies took the writer once";
    return errors;
  }

  GroupCommit::Body insert(std::string name, std::atomic<int>* runs = nullptr) {
    return [name, runs](Session& tx) {
      if (runs) ++*runs;
      tx.execute("INSERT INTO items(name) VALUES (?)", {name});
    };
  }

  test::TempDir dir;
  std::unique_ptr<SqliteConnection> writer;
  std::mutex writer_mutex;
  int accesses = 0;
  sqlite3* other = nullptr;  // closed by the test that opens it
  std::atomic<bool> lock_out_next_batch{false};
  std::unique_ptr<GroupCommit> group;
};

TEST_F(GroupCommitTest, QueuedBodiesShareOneTransactionRunByTheFirstOfThem) {
  std::vector<std::thread::id> ran_on(3);
  std::vector<GroupCommit::Body> bodies;
  for (int i = 0; i < 3; ++i) {
    bodies.push_back([&, i](Session& tx) {
      ran_on[i] = std::this_thread::get_id();
      tx.execute("INSERT INTO items(name) VALUES (?)", {"n" + std::to_string(i)});
      // The bodies before it in the batch are visible to it: one transaction.
      EXPECT_EQ(tx.query("SELECT count(*) FROM items").at(0).integer(0), 1 + i);
    });
  }
  for (const auto& error : as_one_batch(bodies)) EXPECT_EQ(message_of(error), "no error");
  EXPECT_EQ(ran_on[0], ran_on[1]);
  EXPECT_EQ(ran_on[1], ran_on[2]);
  EXPECT_EQ(names(), (std::vector<std::string>{"n0", "n1", "n2"}));
}

TEST_F(GroupCommitTest, WithALimitOfOneEveryBodyRunsAloneOnItsCallersThread) {
  open(1);
  std::atomic<bool> holding{false};
  std::atomic<bool> release{false};
  std::thread first([&] {
    group->run([&](Session&) {
      holding = true;
      EXPECT_TRUE(eventually([&] { return release.load(); }));
    });
  });
  EXPECT_TRUE(eventually([&] { return holding.load(); }));
  std::vector<std::thread> callers;
  std::atomic<int> on_own_thread{0};
  for (int i = 0; i < 3; ++i) {
    callers.emplace_back([&, i] {
      const auto me = std::this_thread::get_id();
      group->run([&, i, me](Session& tx) {
        if (std::this_thread::get_id() == me) ++on_own_thread;
        tx.execute("INSERT INTO items(name) VALUES (?)", {"n" + std::to_string(i)});
      });
    });
    EXPECT_TRUE(eventually([&] { return group->waiting() == static_cast<std::size_t>(i) + 1; }));
  }
  release = true;
  first.join();
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(on_own_thread.load(), 3);
  EXPECT_EQ(accesses, 4);
  EXPECT_EQ(names().size(), 3u);
}

TEST_F(GroupCommitTest, ABodyThatThrowsIsUndoneAloneAndTheBatchGoesOn) {
  writer->execute("INSERT INTO items(name) VALUES ('taken')", {});
  std::atomic<int> runs_a{0};
  std::atomic<int> runs_c{0};
  std::atomic<int> runs_e{0};
  const auto errors = as_one_batch({
      insert("a", &runs_a),
      [](Session& tx) {
        tx.execute("INSERT INTO items(name) VALUES ('b')");
        throw BodyFailure("b changed its mind");
      },
      insert("c", &runs_c),
      insert("taken"),  // ConstraintError, its own
      insert("e", &runs_e),
  });
  EXPECT_EQ(message_of(errors[0]), "no error");
  EXPECT_TRUE(is<BodyFailure>(errors[1])) << message_of(errors[1]);
  EXPECT_EQ(message_of(errors[1]), "b changed its mind");
  EXPECT_EQ(message_of(errors[2]), "no error");
  EXPECT_TRUE(is<ConstraintError>(errors[3])) << message_of(errors[3]);
  EXPECT_EQ(message_of(errors[4]), "no error");
  EXPECT_EQ(names(), (std::vector<std::string>{"a", "c", "e", "taken"}));
  EXPECT_EQ(runs_a + runs_c + runs_e, 3) << "nobody ran twice";
}

// A trigger's RAISE(ROLLBACK) makes SQLite roll the whole transaction back by itself, like a
// full disk can: the bodies before lose their writes and run again, each alone.
TEST_F(GroupCommitTest, WhenSQLiteRollsTheBatchBackTheOthersRunAgainAlone) {
  writer->execute_script(
      "CREATE TRIGGER boom BEFORE INSERT ON items WHEN NEW.name LIKE 'boom%' BEGIN"
      "  SELECT RAISE(ROLLBACK, 'boom refused');"
      " END;");
  std::atomic<int> runs_a{0};
  std::atomic<int> runs_c{0};
  auto errors = as_one_batch({
      insert("a", &runs_a),
      [](Session& tx) {
        try {
          tx.execute("INSERT INTO items(name) VALUES ('boom 1')");
        } catch (const ConstraintError&) {
          // Caught, and the body returns as if all went well.
        }
      },
      insert("c", &runs_c),
  });
  EXPECT_EQ(message_of(errors[0]), "no error");
  EXPECT_NE(message_of(errors[1]).find("the transaction ended before its body returned"),
            std::string::npos)
      << message_of(errors[1]);
  EXPECT_EQ(message_of(errors[2]), "no error");
  EXPECT_EQ(runs_a.load(), 2) << "in the batch, then alone";
  EXPECT_EQ(runs_c.load(), 1) << "not reached in the batch";
  EXPECT_EQ(names(), (std::vector<std::string>{"a", "c"}));

  // The same error thrown on by the body: that body gets it, the others are retried.
  std::atomic<int> runs_x{0};
  errors = as_one_batch({insert("x", &runs_x), insert("boom 2"), insert("y")});
  EXPECT_EQ(message_of(errors[0]), "no error");
  EXPECT_TRUE(is<ConstraintError>(errors[1])) << message_of(errors[1]);
  EXPECT_NE(message_of(errors[1]).find("boom refused"), std::string::npos);
  EXPECT_EQ(message_of(errors[2]), "no error");
  EXPECT_EQ(runs_x.load(), 2);
  EXPECT_EQ(names(), (std::vector<std::string>{"a", "c", "x", "y"}));
}

TEST_F(GroupCommitTest, ADeferredConstraintFailingAtCommitFailsOnlyItsBody) {
  writer->execute_script(
      "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
      "CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL"
      "  REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);");
  const auto errors = as_one_batch({
      [](Session& tx) {
        tx.execute("INSERT INTO child(id, parent_id) VALUES (1, 1)");  // parent follows
        tx.execute("INSERT INTO parent(id) VALUES (1)");
      },
      [](Session& tx) { tx.execute("INSERT INTO child(id, parent_id) VALUES (2, 99)"); },
      [](Session& tx) { tx.execute("INSERT INTO parent(id) VALUES (2)"); },
  });
  EXPECT_EQ(message_of(errors[0]), "no error");
  EXPECT_TRUE(is<ConstraintError>(errors[1])) << message_of(errors[1]);
  EXPECT_NE(message_of(errors[1]).find("FOREIGN KEY"), std::string::npos) << message_of(errors[1]);
  EXPECT_EQ(message_of(errors[2]), "no error");
  EXPECT_EQ(writer->query("SELECT count(*) FROM parent", {}).at(0).integer(0), 2);
  EXPECT_EQ(writer->query("SELECT id FROM child", {}).size(), 1u);
}

TEST_F(GroupCommitTest, AFailingBeginFailsEveryBodyOfTheBatchWithTheStoresError) {
  ASSERT_EQ(sqlite3_open(path().c_str(), &other), SQLITE_OK);
  std::atomic<int> runs{0};
  std::vector<std::exception_ptr> errors(3);
  {
    std::atomic<bool> holding{false};
    std::atomic<bool> release{false};
    std::thread first([&] {
      group->run([&](Session&) {
        holding = true;
        EXPECT_TRUE(eventually([&] { return release.load(); }));
      });
    });
    EXPECT_TRUE(eventually([&] { return holding.load(); }));
    lock_out_next_batch = true;  // the first caller already has the writer: for the batch
    std::vector<std::thread> callers;
    for (std::size_t i = 0; i < 3; ++i) {
      callers.emplace_back([&, i] {
        try {
          group->run(insert("n" + std::to_string(i), &runs));
        } catch (...) {
          errors[i] = std::current_exception();
        }
      });
      EXPECT_TRUE(eventually([&] { return group->waiting() == i + 1; }));
    }
    release = true;
    first.join();
    for (auto& caller : callers) caller.join();
  }
  sqlite3_close(other);
  other = nullptr;
  for (const auto& error : errors) {
    EXPECT_TRUE(is<StorageUnavailable>(error)) << message_of(error);
  }
  EXPECT_EQ(runs.load(), 0) << "no body ran";
  EXPECT_TRUE(names().empty());
  group->run(insert("later"));
  EXPECT_EQ(names(), std::vector<std::string>{"later"});
}

TEST(RefuseTransactionControl, RefusesWhatWouldBeginOrEndTheTransactionAndNothingElse) {
  for (const char* sql :
       {"COMMIT", "commit transaction", "END", "end;", "BEGIN", "begin immediate", "ROLLBACK",
        "rollback transaction", "  /* why */ COMMIT", "-- done\nCOMMIT", "\tRollBack  -- all"}) {
    EXPECT_THROW(refuse_transaction_control(sql), DatabaseError) << sql;
  }
  for (const char* sql :
       {"SELECT 1", "INSERT INTO t VALUES ('COMMIT')", "ROLLBACK TO mine",
        "rollback transaction to savepoint mine", "SAVEPOINT mine", "RELEASE mine",
        "UPDATE t SET commit_id = 1", "COMMITTED", "", "-- only a comment"}) {
    EXPECT_NO_THROW(refuse_transaction_control(sql)) << sql;
  }
  EXPECT_THROW(refuse_transaction_control_in_script("INSERT INTO t VALUES (1); COMMIT;"),
               DatabaseError);
  EXPECT_THROW(refuse_transaction_control_in_script("INSERT INTO t VALUES (1);\nEND"),
               DatabaseError);
  EXPECT_NO_THROW(
      refuse_transaction_control_in_script("INSERT INTO t VALUES ('a; COMMIT;');\n"
                                           "-- COMMIT; in a comment\n"
                                           "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
                                           "  INSERT INTO u VALUES (1);\n"
                                           "END;\n"
                                           "/* END; */ SELECT 1;"));
}

TEST_F(GroupCommitTest, BodiesCannotEndTheTransactionThemselves) {
  std::vector<std::string> refused;
  group->run([&](Session& tx) {
    tx.execute("INSERT INTO items(name) VALUES ('kept')");
    for (const char* sql : {"COMMIT", "END", "ROLLBACK", "BEGIN"}) {
      try {
        tx.execute(sql);
      } catch (const DatabaseError& error) {
        refused.push_back(error.what());
      }
    }
    EXPECT_THROW(tx.execute_script("INSERT INTO items(name) VALUES ('script'); COMMIT;"),
                 DatabaseError);
    // A savepoint of the body's own is fine.
    tx.execute("SAVEPOINT mine");
    tx.execute("INSERT INTO items(name) VALUES ('undone')");
    tx.execute("ROLLBACK TO mine");
    tx.execute("RELEASE mine");
  });
  ASSERT_EQ(refused.size(), 4u);
  EXPECT_NE(refused[0].find("cannot begin or end the transaction"), std::string::npos)
      << refused[0];
  EXPECT_EQ(names(), std::vector<std::string>{"kept"});
}

// Through the Database: a body run by another caller's thread still reaches its transaction when
// it calls the Database directly, and a nested transaction() is refused there too.
TEST(SqliteGroupCommit, DirectCallsFromBatchedBodiesJoinTheirTransaction) {
  test::TempDir dir;
  auto db = open_sqlite({.path = (dir / "d.db").string()});
  db->execute(
      "CREATE TABLE t(writer INTEGER NOT NULL, seq INTEGER NOT NULL, part INTEGER NOT NULL)");
  constexpr int kThreads = 8;
  constexpr int kTransactions = 100;
  std::atomic<int> problems{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int seq = 0; seq < kTransactions; ++seq) {
        const bool undo = seq % 9 == 4;
        try {
          db->transaction([&](Session& tx) {
            tx.execute("INSERT INTO t VALUES (?, ?, 0)", {std::int64_t{w}, std::int64_t{seq}});
            db->execute("INSERT INTO t VALUES (?, ?, 1)", {std::int64_t{w}, std::int64_t{seq}});
            db->execute_script("UPDATE t SET part = part WHERE 0;");
            if (db->query("SELECT count(*) FROM t WHERE writer = ? AND seq = ?",
                          {std::int64_t{w}, std::int64_t{seq}})
                    .at(0)
                    .integer(0) != 2) {
              ++problems;
            }
            try {
              db->transaction([](Session&) {});
              ++problems;
            } catch (const DatabaseError& error) {
              if (std::string(error.what()).find("nested transaction") == std::string::npos) {
                ++problems;
              }
            }
            EXPECT_THROW(db->execute("COMMIT"), DatabaseError);
            if (undo) throw BodyFailure("undo");
          });
          if (undo) ++problems;
        } catch (const BodyFailure&) {
          if (!undo) ++problems;
        } catch (const std::exception& error) {
          ADD_FAILURE() << error.what();
          ++problems;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(problems.load(), 0);
  int undone = 0;
  for (int seq = 0; seq < kTransactions; ++seq) undone += seq % 9 == 4 ? 1 : 0;
  EXPECT_EQ(db->query("SELECT count(*) FROM t").at(0).integer(0),
            2 * kThreads * (kTransactions - undone));
}

// The store's failure reaches every caller of a batch as StorageUnavailable and readiness
// (write_failure) until a write succeeds again.
TEST(SqliteGroupCommit, StorageUnavailableReachesEveryCallerAndWriteFailure) {
  test::TempDir dir;
  const std::string path = (dir / "u.db").string();
  auto db = open_sqlite({.path = path, .busy_timeout = std::chrono::milliseconds(20)});
  db->execute("CREATE TABLE t(x INTEGER)");
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::atomic<int> unavailable{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        db->transaction([](Session& tx) { tx.execute("INSERT INTO t VALUES (1)"); });
      } catch (const StorageUnavailable&) {
        ++unavailable;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(unavailable.load(), 4);
  EXPECT_FALSE(db->write_failure().empty());
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  db->transaction([](Session& tx) { tx.execute("INSERT INTO t VALUES (2)"); });
  EXPECT_TRUE(db->write_failure().empty());
  EXPECT_EQ(db->query("SELECT count(*) FROM t").at(0).integer(0), 1);
}

TEST(SqliteGroupCommit, RefusesALimitBelowOne) {
  test::TempDir dir;
  EXPECT_THROW(open_sqlite({.path = (dir / "x.db").string(), .group_commit_limit = 0}),
               DatabaseError);
}

}  // namespace
}  // namespace portico::storage::detail
