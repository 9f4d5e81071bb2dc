// The built-in storage backend: SQLite in WAL mode, safe under many threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "portico/database.hpp"

namespace portico::storage {

struct SqliteOptions {
  std::string path;  // file path; parent directories are created; ":memory:" is not supported
  int readers = 4;   // pooled read-only connections for queries outside transactions
  std::chrono::milliseconds busy_timeout{5000};
  // Concurrent transactions sharing one commit at most (group commit); 1 commits each alone.
  int group_commit_limit = 64;
};

// Opens (creating if needed) the database. Throws DatabaseError naming the path on failure.
std::shared_ptr<Database> open_sqlite(const SqliteOptions& options);

// Database::transaction() for the core's own bookkeeping — usage counters, keys' last use — which
// no plugin reads: on SQLite its writes do not move write_generation(), so plugins' caches stay
// confirmed. (The 5-second flushes otherwise sent every entry of a 100,000-product cache back to
// the database for a check: (a) on 100,000 products at half the throughput of 1,000.) Another
// process on the same file still sees them as a change. Other backends: a plain transaction.
void bookkeeping_transaction(Database& db, const std::function<void(Session&)>& body);

}  // namespace portico::storage
