// Transactions and concurrency: commit, rollback on throw, nesting, same-thread queries inside a
// body, and many threads writing while others read.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/storage/sqlite_database.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::storage {
namespace {

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db = open_sqlite({.path = (dir / "portico.db").string()});
    db->execute("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
  }
  std::int64_t count() { return db->query("SELECT count(*) FROM items").at(0).integer(0); }

  test::TempDir dir;
  std::shared_ptr<Database> db;
};

TEST_F(TransactionTest, CommitsWhenTheBodyReturns) {
  db->transaction([](Session& tx) {
    tx.execute("INSERT INTO items(name) VALUES (?)", {std::string("a")});
    tx.execute("INSERT INTO items(name) VALUES (?)", {std::string("b")});
    EXPECT_EQ(tx.query("SELECT count(*) FROM items").at(0).integer(0), 2);
  });
  EXPECT_EQ(count(), 2);
}

TEST_F(TransactionTest, RollsBackAndRethrowsWhenTheBodyThrows) {
  EXPECT_THROW(db->transaction([](Session& tx) {
    tx.execute("INSERT INTO items(name) VALUES (?)", {std::string("a")});
    throw std::runtime_error("business rule failed");
  }),
               std::runtime_error);
  EXPECT_EQ(count(), 0);

  // A constraint error inside the body rolls back the earlier statements too.
  db->execute("INSERT INTO items(name) VALUES ('taken')");
  EXPECT_THROW(db->transaction([](Session& tx) {
    tx.execute("INSERT INTO items(name) VALUES ('new')");
    tx.execute("INSERT INTO items(name) VALUES ('taken')");
  }),
               ConstraintError);
  EXPECT_EQ(count(), 1);

  // The writer is usable again afterwards.
  db->transaction([](Session& tx) { tx.execute("INSERT INTO items(name) VALUES ('later')"); });
  EXPECT_EQ(count(), 2);
}

TEST_F(TransactionTest, NestedTransactionIsRefusedNotDeadlocked) {
  std::string message;
  EXPECT_THROW(db->transaction([&](Session& tx) {
    tx.execute("INSERT INTO items(name) VALUES ('outer')");
    try {
      db->transaction([](Session&) {});
    } catch (const DatabaseError& error) {
      message = error.what();
      throw;
    }
  }),
               DatabaseError);
  EXPECT_NE(message.find("nested transaction"), std::string::npos) << message;
  EXPECT_EQ(count(), 0);
}

TEST_F(TransactionTest, DatabaseCallsFromInsideABodyJoinTheTransaction) {
  EXPECT_THROW(db->transaction([&](Session& tx) {
    tx.execute("INSERT INTO items(name) VALUES ('a')");
    // Directly on the Database, same thread: routed to the transaction, so it sees 'a'.
    EXPECT_EQ(db->query("SELECT count(*) FROM items").at(0).integer(0), 1);
    db->execute("INSERT INTO items(name) VALUES ('b')");
    db->execute_script("INSERT INTO items(name) VALUES ('c');");
    EXPECT_EQ(tx.query("SELECT count(*) FROM items").at(0).integer(0), 3);
    throw std::runtime_error("undo all three");
  }),
               std::runtime_error);
  EXPECT_EQ(count(), 0);
}

TEST_F(TransactionTest, OtherThreadsDoNotSeeUncommittedWrites) {
  db->transaction([&](Session& tx) {
    tx.execute("INSERT INTO items(name) VALUES ('pending')");
    std::int64_t seen = -1;
    std::thread reader([&] { seen = count(); });
    reader.join();
    EXPECT_EQ(seen, 0);
  });
  EXPECT_EQ(count(), 1);
}

TEST_F(TransactionTest, SessionRefusesUseFromAnotherThread) {
  db->transaction([&](Session& tx) {
    std::string message;
    std::thread other([&] {
      try {
        tx.query("SELECT 1");
      } catch (const DatabaseError& error) {
        message = error.what();
      }
    });
    other.join();
    EXPECT_NE(message.find("on the thread that opened it"), std::string::npos) << message;
  });
}

TEST_F(TransactionTest, ConcurrentWritersAndReadersLoseNothing) {
  constexpr int kWriters = 8;
  constexpr int kInsertsPerWriter = 500;
  std::atomic<bool> writing{true};
  std::atomic<int> reader_failures{0};
  std::atomic<int> reads{0};

  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      std::int64_t last = 0;
      while (writing.load()) {
        std::int64_t now = count();
        if (now < last) ++reader_failures;  // committed rows never disappear
        last = now;
        ++reads;
      }
    });
  }

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kInsertsPerWriter; ++i) {
        std::string name = std::to_string(w) + "-" + std::to_string(i);
        if (i % 2 == 0) {
          db->execute("INSERT INTO items(name) VALUES (?)", {name});
        } else {
          db->transaction(
              [&](Session& tx) { tx.execute("INSERT INTO items(name) VALUES (?)", {name}); });
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();
  writing = false;
  for (auto& reader : readers) reader.join();

  EXPECT_EQ(count(), kWriters * kInsertsPerWriter);
  EXPECT_EQ(reader_failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace portico::storage
