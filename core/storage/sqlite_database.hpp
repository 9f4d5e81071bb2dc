// The built-in storage backend: SQLite in WAL mode, safe under many threads.
#pragma once

#include <chrono>
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

}  // namespace portico::storage
