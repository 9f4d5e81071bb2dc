// What the PostgreSQL store adds to PostgreSQL inside one transaction to keep SQLite's semantics:
// a caught error leaves the transaction usable, a failed query the body catches commits nothing,
// transaction control in a body is refused while the body's own savepoints work, and a statement
// the store cannot read is a DatabaseError. Each test opens its own database in the binary's
// shared PostgreSQL server (tests/support/postgres_server.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/unit/plugins/store_postgres/store_fixture.hpp"

namespace portico::test {
namespace {

using namespace pg_store;

// ---- transactions -------------------------------------------------------------------------------

TEST(PostgresStore, AConstraintErrorCaughtInsideABodyLeavesTheTransactionUsable) {
  REQUIRE_POSTGRES();
  auto db = open_postgres(fresh_database("caught"));
  db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");

  bool caught = false;
  db->transaction([&](Session& tx) {
    tx.execute("INSERT INTO t (id, v) VALUES (?, ?)", {std::int64_t{1}, std::string("first")});
    try {
      tx.execute("INSERT INTO t (id, v) VALUES (?, ?)", {std::int64_t{1}, std::string("dup")});
    } catch (const ConstraintError&) {
      caught = true;
    }
    tx.execute("INSERT INTO t (id, v) VALUES (?, ?)", {std::int64_t{2}, std::string("last")});
    EXPECT_EQ(tx.query("SELECT count(*) FROM t").at(0).integer(0), 2);
  });

  EXPECT_TRUE(caught);
  const Rows rows = db->query("SELECT id, v FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].integer("id"), 1);
  EXPECT_EQ(rows[0].text("v"), "first");
  EXPECT_EQ(rows[1].integer("id"), 2);
  EXPECT_EQ(rows[1].text("v"), "last");
  EXPECT_EQ(db->write_failure(), "");
}

TEST(PostgresStore, AFailedQueryTheBodyCatchesCommitsNothing) {
  REQUIRE_POSTGRES();
  auto db = open_postgres(fresh_database("aborted"));
  db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY)");

  // query() runs without a savepoint of its own: its error aborts the transaction, and the store
  // will not commit what is left of it.
  bool caught = false;
  std::string message;
  const std::string kind = error_kind(
      [&] {
        db->transaction([&](Session& tx) {
          tx.execute("INSERT INTO t (id) VALUES (1)");
          try {
            tx.query("SELECT * FROM no_such_table");
          } catch (const DatabaseError&) {
            caught = true;
          }
        });
      },
      &message);
  EXPECT_TRUE(caught);
  EXPECT_EQ(kind, "DatabaseError") << message;
  EXPECT_NE(message.find("nothing was committed"), std::string::npos) << message;
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 0);

  // The same with a constraint a query() (INSERT … RETURNING) runs into.
  caught = false;
  EXPECT_EQ(error_kind(
                [&] {
                  db->transaction([&](Session& tx) {
                    tx.query("INSERT INTO t (id) VALUES (2) RETURNING id");
                    try {
                      tx.query("INSERT INTO t (id) VALUES (2) RETURNING id");
                    } catch (const ConstraintError&) {
                      caught = true;
                    }
                  });
                },
                &message),
            "DatabaseError")
      << message;
  EXPECT_TRUE(caught);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 0);

  // The handle goes on as before.
  db->execute("INSERT INTO t (id) VALUES (3)");
  EXPECT_EQ(ids(*db, "t"), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(db->write_failure(), "");
}

TEST(PostgresStore, TransactionControlInsideABodyIsRefused) {
  REQUIRE_POSTGRES();
  auto db = open_postgres(fresh_database("control"));
  db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY)");

  db->transaction([&](Session& tx) {
    tx.execute("INSERT INTO t (id) VALUES (1)");
    for (const char* sql :
         {"BEGIN", "begin transaction", "START TRANSACTION", "COMMIT", "commit work", "END",
          "ABORT", "ROLLBACK", "rollback", "ROLLBACK WORK", "  /* comment */ ROLLBACK",
          "-- comment\nCOMMIT", "PREPARE TRANSACTION 'p'", "COMMIT PREPARED 'p'"}) {
      std::string message;
      EXPECT_EQ(error_kind([&] { tx.execute(sql); }, &message), "DatabaseError")
          << "execute(\"" << sql << "\"): " << message;
      EXPECT_EQ(error_kind([&] { tx.query(sql); }, &message), "DatabaseError")
          << "query(\"" << sql << "\"): " << message;
    }
    // A script with one of them is refused as a whole, before any of it runs.
    EXPECT_EQ(error_kind([&] { tx.execute_script("INSERT INTO t (id) VALUES (5); COMMIT"); }),
              "DatabaseError");
    EXPECT_EQ(error_kind([&] {
                tx.execute_script(
                    "INSERT INTO t (id) VALUES (6); ROLLBACK; INSERT INTO t (id) VALUES (7)");
              }),
              "DatabaseError");
    // The transaction was never touched: it goes on.
    tx.execute("INSERT INTO t (id) VALUES (2)");
  });
  EXPECT_EQ(ids(*db, "t"), (std::vector<std::int64_t>{1, 2}));
}

TEST(PostgresStore, ARollbackWhoseCommentMentionsToIsStillRefused) {
  REQUIRE_POSTGRES();
  auto db = open_postgres(fresh_database("rollback_comment"));
  db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY)");

  // Only ROLLBACK TO (a savepoint of the body's own) is allowed; a comment saying "to" after a
  // plain ROLLBACK does not make it one.
  db->transaction([&](Session& tx) {
    tx.execute("INSERT INTO t (id) VALUES (1)");
    for (const char* sql : {"ROLLBACK -- back to the start", "ROLLBACK /* TO */",
                            "rollback -- to\n", "ROLLBACK; -- to"}) {
      std::string message;
      EXPECT_EQ(error_kind([&] { tx.execute(sql); }, &message), "DatabaseError")
          << "execute(\"" << sql << "\"): " << message;
      EXPECT_EQ(error_kind([&] { tx.execute_script(sql); }, &message), "DatabaseError")
          << "execute_script(\"" << sql << "\"): " << message;
    }
    // While ROLLBACK TO is told apart however the words are separated.
    tx.execute("SAVEPOINT a");
    tx.execute("INSERT INTO t (id) VALUES (3)");
    EXPECT_EQ(error_kind([&] { tx.execute("ROLLBACK/* comment */TO a"); }), "none");
    tx.execute("INSERT INTO t (id) VALUES (2)");
  });
  // Both rows in one transaction: nothing rolled back or committed halfway.
  EXPECT_EQ(ids(*db, "t"), (std::vector<std::int64_t>{1, 2}));
}

TEST(PostgresStore, ABodysOwnSavepointsWork) {
  REQUIRE_POSTGRES();
  auto db = open_postgres(fresh_database("savepoints"));
  db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY)");

  db->transaction([&](Session& tx) {
    tx.execute("INSERT INTO t (id) VALUES (1)");
    tx.execute("SAVEPOINT a");
    tx.execute("INSERT INTO t (id) VALUES (2)");
    tx.execute("ROLLBACK TO a");  // 2 undone
    tx.execute("INSERT INTO t (id) VALUES (3)");
    tx.execute("SAVEPOINT b");
    tx.execute("INSERT INTO t (id) VALUES (4)");
    tx.execute("RELEASE SAVEPOINT b");  // 4 kept
    tx.execute("savepoint c");
    tx.execute("INSERT INTO t (id) VALUES (5)");
    tx.query("rollback to savepoint c");  // 5 undone, through query()
    tx.execute("ROLLBACK /* comment */ TO c");
    // A savepoint of the body's own outlives a caught error of a statement after it.
    tx.execute("SAVEPOINT d");
    tx.execute("INSERT INTO t (id) VALUES (6)");
    EXPECT_THROW(tx.execute("INSERT INTO t (id) VALUES (6)"), ConstraintError);
    tx.execute("ROLLBACK TO SAVEPOINT d");  // 6 undone
    // And in a script.
    tx.execute_script(
        "SAVEPOINT e; INSERT INTO t (id) VALUES (7); ROLLBACK TO SAVEPOINT e;"
        "INSERT INTO t (id) VALUES (8)");
  });
  EXPECT_EQ(ids(*db, "t"), (std::vector<std::int64_t>{1, 3, 4, 8}));
}

TEST(PostgresStore, AStatementTheStoreCannotReadIsADatabaseError) {
  REQUIRE_POSTGRES();
  auto db = open_postgres(fresh_database("unreadable"));
  db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  // An unterminated comment before the first word: the store reads the keyword before anything
  // else, and what it throws is the API's DatabaseError (not the SQL text's own error type).
  for (const char* sql : {"/* never closed SELECT 1", "-- fine\n/* never closed"}) {
    std::string message;
    EXPECT_EQ(error_kind([&] { db->query(sql); }, &message), "DatabaseError") << sql << message;
    EXPECT_EQ(error_kind([&] { db->execute(sql); }, &message), "DatabaseError") << sql << message;
    EXPECT_EQ(error_kind([&] { db->execute_script(sql); }, &message), "DatabaseError")
        << sql << message;
    db->transaction([&](Session& tx) {
      EXPECT_EQ(error_kind([&] { tx.query(sql); }, &message), "DatabaseError") << sql << message;
      EXPECT_EQ(error_kind([&] { tx.execute(sql); }, &message), "DatabaseError") << sql << message;
      tx.execute("INSERT INTO t (id) VALUES (DEFAULT)");
    });
  }
  // Unterminated elsewhere, and placeholders mixed: refused the same way.
  for (const char* sql : {"SELECT 'open", "SELECT $1, ?", "INSERT INTO t (id) VALUES ($$1)"}) {
    std::string message;
    EXPECT_EQ(error_kind([&] { db->query(sql, {std::int64_t{1}}); }, &message), "DatabaseError")
        << sql << message;
  }
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 2);
}

}  // namespace
}  // namespace portico::test
