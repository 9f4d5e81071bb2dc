// The PostgreSQL store beyond the portable conformance suite, across handles and when things are
// missing: serialized writers and write_generation across nodes, how it behaves when the server
// goes away and comes back, malformed or refused addresses, and an exhausted pool. (What it keeps
// of SQLite's semantics inside one transaction: transaction_test.cpp.)
// Each test opens its own database in the binary's shared PostgreSQL server
// (tests/support/postgres_server.hpp); the outage tests start a server of their own to stop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/unit/plugins/store_postgres/store_fixture.hpp"

namespace portico::test {
namespace {

using namespace std::chrono_literals;
using namespace pg_store;
using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Polls `condition` until it holds or `limit` passes; true when it held.
bool eventually(Clock::duration limit, const std::function<bool()>& condition) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    if (condition()) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

// write_generation() documents: while the listener is not connected it moves on every call.
bool moves_on_every_call(const Database& db) {
  return db.write_generation() != db.write_generation();
}
bool steady(const Database& db) {
  const auto before = db.write_generation();
  std::this_thread::sleep_for(20ms);
  return db.write_generation() == before;
}

// Several pooled connections at once, idle again when this returns.
void open_pooled_connections(Database& db, int count) {
  std::vector<std::thread> readers;
  for (int i = 0; i < count; ++i) {
    readers.emplace_back([&db] { db.query("SELECT pg_sleep(0.2)"); });
  }
  for (auto& reader : readers) reader.join();
}

// ---- nodes --------------------------------------------------------------------------------------

TEST(PostgresStore, AnotherNodesCommitMovesWriteGenerationWithinASecond) {
  REQUIRE_POSTGRES();
  PgOptions options = fresh_database("generation");
  auto a = open_postgres(options);  // two handles on one database: two nodes
  auto b = open_postgres(options);

  const auto b_initial = b->write_generation();
  a->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  ASSERT_TRUE(eventually(1s, [&] { return b->write_generation() != b_initial; }))
      << "B never heard of A's CREATE TABLE";

  // Reads move nothing, on either node.
  const auto a0 = a->write_generation();
  const auto b0 = b->write_generation();
  EXPECT_EQ(scalar(*b, "SELECT count(*) FROM t"), 0);
  EXPECT_EQ(scalar(*b, "WITH x AS (SELECT 1 AS one) SELECT one FROM x"), 1);
  b->transaction([](Session& tx) { tx.query("SELECT id FROM t"); });
  std::this_thread::sleep_for(300ms);  // a notification, were there one, has arrived
  EXPECT_EQ(b->write_generation(), b0);
  EXPECT_EQ(a->write_generation(), a0);

  // A's write moves A's own generation before it returns, and B's within a second.
  a->execute("INSERT INTO t (id) VALUES (1)");
  const auto a1 = a->write_generation();
  EXPECT_NE(a1, a0);
  const auto written = Clock::now();
  EXPECT_TRUE(eventually(1s, [&] { return b->write_generation() != b0; }))
      << "B's generation did not move within 1 s of A's commit";
  std::cout << "[   timing ] B heard A's commit after " << ms(Clock::now() - written) << " ms\n";
  // A's own notification does not count a second time on A.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(a->write_generation(), a1);

  // And the other way round.
  const auto a2 = a->write_generation();
  const auto b2 = b->write_generation();
  b->execute("INSERT INTO t (id) VALUES (2)");
  EXPECT_NE(b->write_generation(), b2);
  EXPECT_TRUE(eventually(1s, [&] { return a->write_generation() != a2; }));
}

TEST(PostgresStore, ReadModifyWriteTransactionsOnTwoNodesLoseNoUpdate) {
  REQUIRE_POSTGRES();
  PgOptions options = fresh_database("serialized");
  auto a = open_postgres(options);
  auto b = open_postgres(options);
  a->execute_script("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
  a->execute("INSERT INTO counter (id, n) VALUES (1, 0)");

  // Each body reads n, waits a little and writes n + 1: under READ COMMITTED alone concurrent
  // bodies would overwrite each other; the store's write lock makes them take turns.
  constexpr int kThreadsPerNode = 4;
  constexpr int kTransactions = 50;
  std::atomic<int> failures{0};
  std::mutex failure_mutex;
  std::string first_failure;
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  for (Database* db : {a.get(), b.get()}) {
    for (int t = 0; t < kThreadsPerNode; ++t) {
      threads.emplace_back([&, db] {
        for (int i = 0; i < kTransactions; ++i) {
          try {
            db->transaction([](Session& tx) {
              const std::int64_t n =
                  tx.query("SELECT n FROM counter WHERE id = 1").at(0).integer(0);
              std::this_thread::sleep_for(500us);
              tx.execute("UPDATE counter SET n = ? WHERE id = 1", {n + 1});
            });
          } catch (const std::exception& e) {
            if (failures.fetch_add(1) == 0) {
              std::lock_guard lock(failure_mutex);
              first_failure = e.what();
            }
          }
        }
      });
    }
  }
  for (auto& thread : threads) thread.join();
  std::cout << "[   timing ] " << 2 * kThreadsPerNode * kTransactions << " transactions in "
            << ms(Clock::now() - started) << " ms\n";
  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_EQ(scalar(*a, "SELECT n FROM counter WHERE id = 1"), 2 * kThreadsPerNode * kTransactions);
  EXPECT_EQ(scalar(*b, "SELECT n FROM counter WHERE id = 1"), 2 * kThreadsPerNode * kTransactions);
}

// ---- the server away ----------------------------------------------------------------------------

TEST(PostgresStore, AServerOutageIsStorageUnavailableAndTheStoreRecoversByItself) {
  REQUIRE_POSTGRES();
  PostgresServer server;  // this test's own, to stop and start
  server.start();
  PgOptions options;
  options.conninfo = server.create_database("outage");
  options.pool_size = 4;
  options.pool_timeout = 1000ms;
  options.connect_timeout = 1000ms;
  options.reconnect_interval = 100ms;
  auto db = open_postgres(options);
  db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  db->execute("INSERT INTO t (v) VALUES (?)", {std::string("before")});
  open_pooled_connections(*db, 4);
  EXPECT_TRUE(steady(*db)) << "the listener is not connected";

  server.stop();
  // The listener notices: every call is "something may have changed".
  auto stopped = Clock::now();
  EXPECT_TRUE(eventually(5s, [&] { return moves_on_every_call(*db); }))
      << "write_generation() kept still while the server was away";
  std::cout << "[   timing ] listener noticed the outage after " << ms(Clock::now() - stopped)
            << " ms\n";

  // Every call fails, quickly, with StorageUnavailable: the pooled connections' (dead) and new
  // ones' (refused).
  const auto expect_unavailable = [](const char* what, const std::function<void()>& call) {
    const auto started = Clock::now();
    std::string message;
    const std::string kind = error_kind(call, &message);
    const auto took = Clock::now() - started;
    EXPECT_EQ(kind, "StorageUnavailable") << what << ": " << message;
    EXPECT_LT(took, 3s) << what << " took " << ms(took) << " ms";
  };
  for (int round = 0; round < 3; ++round) {
    expect_unavailable("query", [&] { db->query("SELECT count(*) FROM t"); });
    expect_unavailable("execute",
                       [&] { db->execute("INSERT INTO t (v) VALUES (?)", {std::string("x")}); });
    expect_unavailable("transaction", [&] {
      db->transaction([](Session& tx) { tx.execute("INSERT INTO t (v) VALUES ('y')"); });
    });
  }
  EXPECT_NE(db->write_failure(), "");
  EXPECT_TRUE(moves_on_every_call(*db));

  server.start();
  // Calls succeed again by themselves.
  EXPECT_EQ(error_kind([&] { EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 1); }), "none");
  EXPECT_NE(db->write_failure(), "");  // no write has succeeded yet
  EXPECT_EQ(
      error_kind([&] { db->execute("INSERT INTO t (v) VALUES (?)", {std::string("after")}); }),
      "none");
  EXPECT_EQ(db->write_failure(), "");
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM t"), 2);
  // The listener is back: write_generation() keeps still again between writes.
  const auto restarted = Clock::now();
  EXPECT_TRUE(eventually(5s, [&] { return steady(*db); }))
      << "write_generation() still moves on every call";
  std::cout << "[   timing ] listener back after " << ms(Clock::now() - restarted) << " ms\n";
  server.stop();
}

TEST(PostgresStore, AfterARestartDeadPooledConnectionsFailNoCall) {
  REQUIRE_POSTGRES();
  PostgresServer server;
  server.start();
  PgOptions options;
  options.conninfo = server.create_database("restart");
  options.pool_size = 4;
  options.connect_timeout = 1000ms;
  options.reconnect_interval = 100ms;
  auto db = open_postgres(options);
  db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  open_pooled_connections(*db, 4);

  // A restart while nothing was asked: every pooled connection is a dead one now.
  server.stop();
  server.start();
  for (int i = 1; i <= 6; ++i) {
    std::string message;
    EXPECT_EQ(error_kind([&] { db->query("SELECT count(*) FROM t"); }, &message), "none")
        << "query " << i << ": " << message;
    EXPECT_EQ(error_kind([&] { db->execute("INSERT INTO t (id) VALUES (?)", {std::int64_t{i}}); },
                         &message),
              "none")
        << "execute " << i << ": " << message;
  }
  EXPECT_EQ(db->write_failure(), "");
  server.stop();
}

// ---- addresses ----------------------------------------------------------------------------------

TEST(PostgresStore, AMalformedAddressIsADatabaseErrorNamingTheProblem) {
  struct Case {
    std::string conninfo;
    std::string named;
  };
  for (const Case& c :
       {Case{"postgresql://portico@127.0.0.1/x?bogus_option=1", "bogus_option"},
        Case{"postgresql://portico@127.0.0.1/x?sslmode", "sslmode"},
        Case{"host=127.0.0.1 dbname", "dbname"}, Case{"postgresql://portico@[::1/x", "IPv6"},
        Case{"postgresql://u:*@[::1/x", "IPv6"},  // a password "***" contains
        Case{"", "no PostgreSQL address"}}) {
    PgOptions options;
    options.conninfo = c.conninfo;
    std::string message;
    EXPECT_EQ(error_kind([&] { open_postgres(options); }, &message), "DatabaseError")
        << c.conninfo << ": " << message;
    EXPECT_NE(message.find(c.named), std::string::npos) << c.conninfo << ": " << message;
  }
  // Wrong options too.
  PgOptions options;
  options.conninfo = "postgresql://portico@127.0.0.1/x";
  options.pool_size = 0;
  EXPECT_EQ(error_kind([&] { open_postgres(options); }), "DatabaseError");
  options.pool_size = 1;
  options.channel = "Not-A-Channel";
  EXPECT_EQ(error_kind([&] { open_postgres(options); }), "DatabaseError");
}

TEST(PostgresStore, AMalformedAddressNeverShowsItsPassword) {
  // libpq quotes the whole URI, or the token it could not decode, in some of its reasons.
  for (const std::string conninfo :
       {"postgresql://u:s3cret@[::1/x", "postgresql://u:s3cret@[]/x",
        "postgresql://u:s3cret@[::1]x/db", "postgresql://u:s3cret%zz@127.0.0.1/x",
        "postgresql://u@127.0.0.1/x?password=s3cret%zz",
        "postgres://u:s3cret@[::1/x?sslmode=require"}) {
    PgOptions options;
    options.conninfo = conninfo;
    std::string message;
    EXPECT_EQ(error_kind([&] { open_postgres(options); }, &message), "DatabaseError")
        << conninfo << ": " << message;
    EXPECT_EQ(message.find("s3cret"), std::string::npos) << conninfo << ": " << message;
    EXPECT_NE(message.find("postgresql:// URI"), std::string::npos) << message;
  }
}

TEST(PostgresStore, ARefusedPortIsStorageUnavailableNamingHostAndPortButNotThePassword) {
  const std::string port = std::to_string(free_port());  // nothing listens there
  PgOptions options;
  options.conninfo = "postgresql://u:s3cret@127.0.0.1:" + port + "/x";
  options.connect_timeout = 1000ms;
  const auto started = Clock::now();
  std::string message;
  EXPECT_EQ(error_kind([&] { open_postgres(options); }, &message), "StorageUnavailable") << message;
  EXPECT_LT(Clock::now() - started, 3s);
  EXPECT_NE(message.find("127.0.0.1"), std::string::npos) << message;
  EXPECT_NE(message.find(port), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
}

// ---- the pool -----------------------------------------------------------------------------------

TEST(PostgresStore, AnExhaustedPoolIsStorageUnavailableAfterPoolTimeout) {
  REQUIRE_POSTGRES();
  PgOptions options = fresh_database("pool");
  options.pool_size = 1;
  options.pool_timeout = 200ms;
  auto db = open_postgres(options);
  db->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY)");

  std::latch entered(1);
  std::latch release(1);
  std::string holder_error = "not run";
  std::thread holder([&] {
    bool inside = false;
    holder_error = error_kind([&] {
      db->transaction([&](Session& tx) {
        tx.execute("INSERT INTO t (id) VALUES (1)");
        inside = true;
        entered.count_down();
        release.wait();
      });
    });
    if (!inside) entered.count_down();  // failed before its body: nobody waits forever
  });
  {
    struct Release {
      std::latch& latch;
      ~Release() { latch.count_down(); }
    } release_at_end{release};
    entered.wait();

    auto started = Clock::now();
    std::string message;
    EXPECT_EQ(error_kind([&] { db->query("SELECT 1"); }, &message), "StorageUnavailable")
        << message;
    auto took = Clock::now() - started;
    EXPECT_GE(took, 150ms);
    EXPECT_LT(took, 1s) << ms(took) << " ms";
    EXPECT_NE(message.find("busy"), std::string::npos) << message;
    std::cout << "[   timing ] query gave up after " << ms(took) << " ms\n";

    // A write as well, and readiness hears of it.
    started = Clock::now();
    EXPECT_EQ(error_kind([&] { db->execute("INSERT INTO t (id) VALUES (2)"); }),
              "StorageUnavailable");
    took = Clock::now() - started;
    EXPECT_LT(took, 1s) << ms(took) << " ms";
    EXPECT_NE(db->write_failure(), "");
  }
  holder.join();
  EXPECT_EQ(holder_error, "none");

  // The connection is back: calls go through again.
  db->execute("INSERT INTO t (id) VALUES (2)");
  EXPECT_EQ(db->write_failure(), "");
  EXPECT_EQ(ids(*db, "t"), (std::vector<std::int64_t>{1, 2}));
}

}  // namespace
}  // namespace portico::test
