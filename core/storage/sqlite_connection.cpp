// One SQLite connection: statement cache keyed by SQL text, binding of Value parameters, reading
// rows into Values, and the mapping of SQLite result codes to DatabaseError / ConstraintError.
#include "core/storage/sqlite_connection.hpp"

#include <sqlite3.h>

#include <climits>
#include <mutex>
#include <type_traits>
#include <vector>

namespace portico::storage::detail {

namespace {

// Callers that build SQL text dynamically would otherwise grow the cache without bound.
constexpr std::size_t kMaxCachedStatements = 256;
constexpr std::size_t kExcerptLength = 80;

// Statements are reusable only after a reset; bindings are cleared so a string parameter bound
// with SQLITE_STATIC never outlives the call that owns it.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* statement) : statement_(statement) {}
  ~ResetOnExit() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* statement_;
};

struct FinalizeStatement {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using OwnedStatement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

int checked_length(std::string_view sql) {
  if (sql.size() > static_cast<std::size_t>(INT_MAX)) throw DatabaseError("SQL text is too long");
  return static_cast<int>(sql.size());
}

Value read_column(sqlite3_stmt* statement, int column) {
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_INTEGER: return static_cast<std::int64_t>(sqlite3_column_int64(statement, column));
    case SQLITE_FLOAT: return sqlite3_column_double(statement, column);
    case SQLITE_TEXT: {
      auto text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
      auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, column));
      return text ? std::string(text, size) : std::string();
    }
    case SQLITE_BLOB: {
      auto blob = static_cast<const char*>(sqlite3_column_blob(statement, column));
      auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, column));
      return blob ? std::string(blob, size) : std::string();
    }
    default: return nullptr;
  }
}

}  // namespace

std::string sql_excerpt(std::string_view sql) {
  std::string out;
  bool pending_space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      pending_space = !out.empty();
      continue;
    }
    // Stop only between characters, never inside a UTF-8 sequence.
    bool continuation = (static_cast<unsigned char>(c) & 0xC0) == 0x80;
    if (out.size() >= kExcerptLength && !continuation) return out + "…";
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

void throw_sqlite_error(int result_code, const std::string& message, std::string_view sql) {
  std::string text = message;
  if (!sql.empty()) text += " (SQL: " + sql_excerpt(sql) + ")";
  switch (result_code & 0xff) {
    case SQLITE_CONSTRAINT: throw ConstraintError(text);
    // The store, not the request: a full disk, an I/O error, a lock held past the busy timeout
    // (another process), a file that went read-only or away. Worth retrying later.
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL: throw StorageUnavailable(text);
    default: throw DatabaseError(text);
  }
}

struct SqliteConnection::CachedStatement {
  sqlite3_stmt* statement = nullptr;
  std::shared_ptr<const std::vector<std::string>> columns;
  int reprepares = 0;  // SQLITE_STMTSTATUS_REPREPARE when `columns` was read

  ~CachedStatement() { sqlite3_finalize(statement); }

  // A schema change re-prepares the statement behind our back, and `SELECT *` may then return
  // other columns; re-read the names only when that happened.
  const std::shared_ptr<const std::vector<std::string>>& column_names() {
    int now = sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_REPREPARE, 0);
    if (!columns || now != reprepares) {
      auto names = std::make_shared<std::vector<std::string>>();
      int count = sqlite3_column_count(statement);
      names->reserve(static_cast<std::size_t>(count));
      for (int i = 0; i < count; ++i) {
        const char* name = sqlite3_column_name(statement, i);
        names->emplace_back(name ? name : "");
      }
      columns = std::move(names);
      reprepares = now;
    }
    return columns;
  }
};

namespace {

// Process-wide, once, before the first connection initializes the library (sqlite3_config is
// refused afterwards; the default then stays, which is only slower).
//
// Statement journals — the pages a statement or a SAVEPOINT may have to restore, one copy per page
// and level; a group-commit batch (every body in its own savepoint, every statement in its own)
// writes a few MB of them — are kept in memory up to 16 MiB per transaction, in one block, before
// spilling to a temporary file. The default spills beyond 64 KiB (a file created, written and
// deleted per batch), and `PRAGMA temp_store=MEMORY` instead keeps them in 1 KiB blocks: ~200
// malloc() and free() per order in the writer, which every other writer waits for.
void configure_library() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 16 << 20); });
}

}  // namespace

SqliteConnection::SqliteConnection(const std::string& path, Mode mode,
                                   std::chrono::milliseconds busy_timeout) {
  configure_library();
  int flags =
      SQLITE_OPEN_NOMUTEX |
      (mode == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw DatabaseError("cannot open SQLite database " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  auto timeout_ms = busy_timeout.count();
  sqlite3_busy_timeout(db_, timeout_ms > INT_MAX ? INT_MAX : static_cast<int>(timeout_ms));
}

SqliteConnection::~SqliteConnection() {
  statements_.clear();  // statements must be finalized before the connection closes
  sqlite3_close_v2(db_);
}

SqliteConnection::CachedStatement& SqliteConnection::prepare(std::string_view sql) {
  if (auto found = statements_.find(sql); found != statements_.end()) return *found->second;

  auto cached = std::make_unique<CachedStatement>();
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), checked_length(sql), SQLITE_PREPARE_PERSISTENT,
                              &cached->statement, &tail);
  if (rc != SQLITE_OK) throw_sqlite_error(rc, sqlite3_errmsg(db_), sql);
  if (!cached->statement) throw DatabaseError("empty SQL statement");

  // Whatever follows the first statement must be whitespace or comments: silently ignoring a
  // second statement would be worse than refusing it.
  const char* end = sql.data() + sql.size();
  while (tail && tail < end) {
    sqlite3_stmt* next = nullptr;
    const char* rest = nullptr;
    rc = sqlite3_prepare_v2(db_, tail, static_cast<int>(end - tail), &next, &rest);
    OwnedStatement owned(next);
    if (next || rc != SQLITE_OK) {
      throw DatabaseError(
          "one statement per call; use execute_script for several (SQL: " + sql_excerpt(sql) + ")");
    }
    if (rest == tail) break;
    tail = rest;
  }

  int parameters = sqlite3_bind_parameter_count(cached->statement);
  for (int i = 1; i <= parameters; ++i) {
    if (const char* name = sqlite3_bind_parameter_name(cached->statement, i)) {
      throw DatabaseError("only ? placeholders are supported, found " + std::string(name) +
                          " (SQL: " + sql_excerpt(sql) + ")");
    }
  }

  if (statements_.size() >= kMaxCachedStatements) statements_.clear();
  CachedStatement& result = *cached;
  statements_.emplace(std::string(sql), std::move(cached));
  return result;
}

void SqliteConnection::bind(CachedStatement& cached, const Params& params, std::string_view sql) {
  sqlite3_stmt* statement = cached.statement;
  int expected = sqlite3_bind_parameter_count(statement);
  if (static_cast<std::size_t>(expected) != params.size()) {
    throw DatabaseError("expected " + std::to_string(expected) + " parameters, got " +
                        std::to_string(params.size()) + " (SQL: " + sql_excerpt(sql) + ")");
  }
  for (int i = 0; i < expected; ++i) {
    int index = i + 1;
    int rc = std::visit(
        [&](const auto& value) -> int {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            return sqlite3_bind_null(statement, index);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            return sqlite3_bind_int64(statement, index, value);
          } else if constexpr (std::is_same_v<T, double>) {
            return sqlite3_bind_double(statement, index, value);
          } else {
            return sqlite3_bind_text64(statement, index, value.data(), value.size(), SQLITE_STATIC,
                                       SQLITE_UTF8);
          }
        },
        params[static_cast<std::size_t>(i)]);
    if (rc != SQLITE_OK) throw_sqlite_error(rc, sqlite3_errmsg(db_), sql);
  }
}

Rows SqliteConnection::query(std::string_view sql, const Params& params) {
  CachedStatement& cached = prepare(sql);
  ResetOnExit reset(cached.statement);
  bind(cached, params, sql);
  Rows rows;
  for (;;) {
    int rc = sqlite3_step(cached.statement);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) throw_sqlite_error(rc, sqlite3_errmsg(db_), sql);
    const auto& columns = cached.column_names();
    std::vector<Value> values;
    values.reserve(columns->size());
    for (int c = 0; c < static_cast<int>(columns->size()); ++c) {
      values.push_back(read_column(cached.statement, c));
    }
    rows.emplace_back(columns, std::move(values));
  }
  return rows;
}

std::int64_t SqliteConnection::query_integer(std::string_view sql, int column) {
  CachedStatement& cached = prepare(sql);
  ResetOnExit reset(cached.statement);
  bind(cached, {}, sql);  // a statement with placeholders is refused, not run with NULLs
  const int rc = sqlite3_step(cached.statement);
  if (rc == SQLITE_DONE) throw DatabaseError("no row from: " + sql_excerpt(sql));
  if (rc != SQLITE_ROW) throw_sqlite_error(rc, sqlite3_errmsg(db_), sql);
  if (column < 0 || column >= sqlite3_column_count(cached.statement)) {
    throw DatabaseError("no column " + std::to_string(column) + " from: " + sql_excerpt(sql));
  }
  if (sqlite3_column_type(cached.statement, column) != SQLITE_INTEGER) {
    throw DatabaseError("not an integer from: " + sql_excerpt(sql));
  }
  return sqlite3_column_int64(cached.statement, column);
}

std::int64_t SqliteConnection::execute(std::string_view sql, const Params& params) {
  CachedStatement& cached = prepare(sql);
  ResetOnExit reset(cached.statement);
  bind(cached, params, sql);
  sqlite3_int64 before = sqlite3_total_changes64(db_);
  for (;;) {
    int rc = sqlite3_step(cached.statement);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) throw_sqlite_error(rc, sqlite3_errmsg(db_), sql);
  }
  // sqlite3_changes64 still holds the previous statement's count after DDL or a SELECT.
  if (sqlite3_total_changes64(db_) == before) return 0;
  return sqlite3_changes64(db_);
}

void SqliteConnection::execute_script(std::string_view sql) {
  const char* position = sql.data();
  const char* end = sql.data() + sql.size();
  checked_length(sql);
  while (position < end) {
    sqlite3_stmt* raw = nullptr;
    const char* rest = nullptr;
    int rc = sqlite3_prepare_v2(db_, position, static_cast<int>(end - position), &raw, &rest);
    OwnedStatement statement(raw);
    std::string_view current(position, static_cast<std::size_t>((rest ? rest : end) - position));
    if (rc != SQLITE_OK) throw_sqlite_error(rc, sqlite3_errmsg(db_), current);
    if (statement) {
      for (;;) {
        rc = sqlite3_step(statement.get());
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) throw_sqlite_error(rc, sqlite3_errmsg(db_), current);
      }
    }
    if (!rest || rest == position) break;
    position = rest;
  }
}

bool SqliteConnection::is_read_only(std::string_view sql) {
  return sqlite3_stmt_readonly(prepare(sql).statement) != 0;
}

bool SqliteConnection::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

void SqliteConnection::rollback_quietly() noexcept {
  if (in_transaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace portico::storage::detail
