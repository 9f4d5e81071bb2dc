// One SQLite connection and its cache of prepared statements (internal to core/storage).
// Not thread-safe by design: SqliteDatabase hands each connection to one thread at a time, which
// is why connections are opened with SQLITE_OPEN_NOMUTEX.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "portico/database.hpp"
#include "portico/sdk/text_key.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace portico::storage::detail {

// Throws ConstraintError for SQLITE_CONSTRAINT*, DatabaseError otherwise; the message is SQLite's
// followed by the start of the statement, so a log line says which query failed.
[[noreturn]] void throw_sqlite_error(int result_code, const std::string& message,
                                     std::string_view sql);

// The first ~80 characters of `sql` on one line, for error messages.
std::string sql_excerpt(std::string_view sql);

class SqliteConnection {
 public:
  enum class Mode { read_write, read_only };

  // Throws DatabaseError naming the path when the file cannot be opened.
  SqliteConnection(const std::string& path, Mode mode, std::chrono::milliseconds busy_timeout);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Rows query(std::string_view sql, const Params& params);
  // A column (the first by default) of the first row as an integer, for a statement without
  // parameters that answers numbers (`PRAGMA data_version`, `PRAGMA wal_checkpoint`): read off
  // the statement, so no Rows are built and nothing is allocated. Throws DatabaseError when there
  // is no row, no such column, or the value is not an integer.
  std::int64_t query_integer(std::string_view sql, int column = 0);
  // Rows changed by this statement (0 for statements that change none, e.g. DDL).
  std::int64_t execute(std::string_view sql, const Params& params);
  // Several statements, no parameters; errors name the statement that failed.
  void execute_script(std::string_view sql);

  // True when the statement does not write, so a read-only connection may run it.
  bool is_read_only(std::string_view sql);
  // True while a transaction is open on this connection.
  bool in_transaction() const;
  // Rolls back an open transaction, ignoring errors (used on paths that already throw).
  void rollback_quietly() noexcept;

 private:
  struct CachedStatement;

  CachedStatement& prepare(std::string_view sql);
  void bind(CachedStatement& statement, const Params& params, std::string_view sql);

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>, sdk::TextHash, sdk::TextEqual>
      statements_;
};

}  // namespace portico::storage::detail
