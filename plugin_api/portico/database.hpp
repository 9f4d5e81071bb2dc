// The portable database handle the host gives plugins: prepared statements with `?` placeholders,
// transactions, typed rows. SQLite is built in; other backends arrive as `store` plugins.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace portico {

using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
using Params = std::vector<Value>;

class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A UNIQUE / PRIMARY KEY / FOREIGN KEY violation, so callers can answer 409 instead of 500.
class ConstraintError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

// Since API 1.3. The store cannot serve the call now — disk full, an I/O error, the database locked
// by another process past the busy timeout — while nothing is wrong with the request. The core
// answers 503 `storage_unavailable` with Retry-After; nothing the failed call wrote was committed.
class StorageUnavailable : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

class Row {
 public:
  Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values)
      : columns_(std::move(columns)), values_(std::move(values)) {}

  std::size_t size() const { return values_.size(); }
  const Value& at(std::size_t i) const { return values_.at(i); }
  const Value& at(std::string_view column) const { return values_.at(index_of(column)); }
  bool is_null(std::size_t i) const { return std::holds_alternative<std::nullptr_t>(at(i)); }
  bool is_null(std::string_view c) const { return is_null(index_of(c)); }

  std::int64_t integer(std::size_t i) const {
    const Value& v = at(i);
    if (auto p = std::get_if<std::int64_t>(&v)) return *p;
    if (auto d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
    throw DatabaseError("column " + column_name(i) + " is not an integer");
  }
  double real(std::size_t i) const {
    const Value& v = at(i);
    if (auto d = std::get_if<double>(&v)) return *d;
    if (auto p = std::get_if<std::int64_t>(&v)) return static_cast<double>(*p);
    throw DatabaseError("column " + column_name(i) + " is not a number");
  }
  std::string text(std::size_t i) const {
    const Value& v = at(i);
    if (auto s = std::get_if<std::string>(&v)) return *s;
    if (auto p = std::get_if<std::int64_t>(&v)) return std::to_string(*p);
    if (std::holds_alternative<std::nullptr_t>(v)) return {};
    throw DatabaseError("column " + column_name(i) + " is not text");
  }
  std::optional<std::string> optional_text(std::size_t i) const {
    return is_null(i) ? std::nullopt : std::optional<std::string>(text(i));
  }
  std::optional<std::int64_t> optional_integer(std::size_t i) const {
    return is_null(i) ? std::nullopt : std::optional<std::int64_t>(integer(i));
  }
  std::int64_t integer(std::string_view c) const { return integer(index_of(c)); }
  double real(std::string_view c) const { return real(index_of(c)); }
  std::string text(std::string_view c) const { return text(index_of(c)); }
  std::optional<std::string> optional_text(std::string_view c) const {
    return optional_text(index_of(c));
  }
  std::optional<std::int64_t> optional_integer(std::string_view c) const {
    return optional_integer(index_of(c));
  }

  std::size_t index_of(std::string_view column) const {
    for (std::size_t i = 0; i < columns_->size(); ++i) {
      if ((*columns_)[i] == column) return i;
    }
    throw DatabaseError("no column named " + std::string(column));
  }

 private:
  std::string column_name(std::size_t i) const {
    return i < columns_->size() ? (*columns_)[i] : std::to_string(i);
  }
  std::shared_ptr<const std::vector<std::string>> columns_;
  std::vector<Value> values_;
};

using Rows = std::vector<Row>;

// Statements on one connection. Inside Database::transaction() every call on the Session given to
// the body runs in that transaction.
class Session {
 public:
  virtual ~Session() = default;
  virtual Rows query(std::string_view sql, const Params& params = {}) = 0;
  // Returns the number of rows changed.
  virtual std::int64_t execute(std::string_view sql, const Params& params = {}) = 0;
  // Several statements, no parameters (migrations).
  virtual void execute_script(std::string_view sql) = 0;
};

class Database : public Session {
 public:
  // Runs body in one transaction: committed when body returns, rolled back when it throws (the
  // exception is rethrown); returns only once the body's writes are committed. Write transactions
  // are serialized by the backend, which may share one commit among concurrent callers (SQLite's
  // group commit): then the body may run on another caller's thread, and — when another body made
  // the shared transaction fail as a whole — run a second time, alone. So a body touches only the
  // database and variables it assigns, never BEGINs, COMMITs or ROLLBACKs (refused), and leaves
  // side effects outside the database until transaction() has returned.
  virtual void transaction(const std::function<void(Session&)>& body) = 0;
  virtual std::string backend_name() const = 0;

  // Since API 1.2. A number that changes after every write through this handle — any plugin's,
  // any transaction, committed or not — and before the write call returns. Read it *before* a
  // query: a result kept together with the value read is still current while write_generation()
  // returns that same value, so a cache can skip the database entirely until something was
  // written. A commit by a writer outside this process moves it within a short interval (SQLite:
  // 100 ms). The default changes on every call (a backend that cannot tell makes every cached
  // result look changed, never stale).
  virtual std::uint64_t write_generation() const {
    static std::atomic<std::uint64_t> calls{0};
    return calls.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  // Since API 1.3. While writes fail for the store's sake (StorageUnavailable), why the latest
  // one did; empty once a write succeeds again. Readiness reports it.
  virtual std::string write_failure() const { return {}; }
};

// One schema step of a plugin. Versions start at 1 and grow by one; the host records what ran.
struct Migration {
  int version = 0;
  std::string description;
  std::string sql;  // portable SQL (docs/plugins.md, "SQL every backend runs"), or the default
  // Since API 2.0: this step for one backend, by Database::backend_name() ("sqlite", "postgres"),
  // used there instead of `sql` — for what portable SQL cannot say (types, upserts, indexes).
  std::vector<std::pair<std::string, std::string>> dialects = {};

  // The SQL to run on `backend`.
  const std::string& sql_for(std::string_view backend) const {
    for (const auto& [name, text] : dialects) {
      if (name == backend) return text;
    }
    return sql;
  }
};

}  // namespace portico
