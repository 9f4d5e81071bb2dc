// Shared by the PostgreSQL store's tests on a server (store_test.cpp, transaction_test.cpp): a
// fresh database in the binary's shared server (tests/support/postgres_server.hpp), skipping when
// PostgreSQL is not installed, and small readers of results and of the errors calls throw.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pg_database.hpp"
#include "portico/database.hpp"
#include "tests/support/postgres_server.hpp"

#define REQUIRE_POSTGRES()                                                        \
  if (!::portico::test::PostgresServer::available()) {                            \
    GTEST_SKIP() << "PostgreSQL is not installed (packaging/dev.sh installs it)"; \
  }

namespace portico::test::pg_store {

using store_postgres::open_postgres;
using store_postgres::PgOptions;

inline PgOptions fresh_database(const std::string& prefix) {
  PgOptions options;
  options.conninfo = PostgresServer::shared().create_database(prefix);
  // The tests share one server with every other test running beside them (ctest -j), whose
  // CREATE DATABASEs can hold a connection up for seconds: a connection that took longer than the
  // 5 s default failed a statement test in CI. The tests of the timeout set their own.
  options.connect_timeout = std::chrono::seconds(30);
  return options;
}

inline std::int64_t scalar(Database& db, std::string_view sql, const Params& params = {}) {
  const Rows rows = db.query(sql, params);
  if (rows.size() != 1) throw std::runtime_error("expected one row from: " + std::string(sql));
  return rows[0].integer(0);
}

inline std::vector<std::int64_t> ids(Database& db, const std::string& table) {
  std::vector<std::int64_t> out;
  for (const Row& row : db.query("SELECT id FROM " + table + " ORDER BY id")) {
    out.push_back(row.integer(0));
  }
  return out;
}

// The kind of error `call` throws: "none", "StorageUnavailable", "ConstraintError",
// "DatabaseError" or "other"; `message` gets its what().
inline std::string error_kind(const std::function<void()>& call, std::string* message = nullptr) {
  try {
    call();
    return "none";
  } catch (const StorageUnavailable& e) {
    if (message) *message = e.what();
    return "StorageUnavailable";
  } catch (const ConstraintError& e) {
    if (message) *message = e.what();
    return "ConstraintError";
  } catch (const DatabaseError& e) {
    if (message) *message = e.what();
    return "DatabaseError";
  } catch (const std::exception& e) {
    if (message) *message = e.what();
    return "other";
  }
}

}  // namespace portico::test::pg_store
