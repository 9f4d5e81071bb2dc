// One libpq connection (blocking calls: the store runs on the gateway's worker pool, never on an
// I/O thread). Statements are translated (sql_text.hpp), prepared once per connection and run
// with their parameters bound: strings as bytes (binary format, so NUL and any byte pass),
// numbers as text PostgreSQL reads into the column's type. Results come back typed as the
// portable API has them: integers (and booleans, integral numerics) int64, floating numbers
// double, bytea decoded, everything else text.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "portico/database.hpp"

namespace portico::store_postgres {

struct Outcome {
  Rows rows;
  std::int64_t changed = 0;  // rows an INSERT/UPDATE/DELETE touched
  bool wrote = false;        // the statement was not a read
};

class PgConnection {
 public:
  // Connects (blocking, bounded by connect_timeout); throws StorageUnavailable with libpq's
  // reason, prefixed by `where` (the database named without its password).
  PgConnection(const std::string& conninfo, const std::string& where,
               std::int64_t connect_timeout_seconds, const std::string& options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  bool usable() const;  // connected and not inside a failed or unfinished transaction
  bool broken() const;  // the connection itself is gone
  int backend_pid() const;
  PGconn* raw() { return conn_; }

  // One statement. `guarded`: inside a transaction, in a savepoint of its own, so that an error
  // (a constraint violation the caller catches, say) leaves the transaction usable — sent as one
  // pipeline: one round trip.
  Outcome run(std::string_view sql, const Params& params, bool guarded);
  // Several statements without parameters, translated one by one, sent as one simple query.
  void run_script(std::string_view script);
  // Transaction control and the store's own statements, as written (not translated).
  void command(const char* sql);

 private:
  struct Prepared {
    std::string name;
    int placeholders = 0;
  };
  const Prepared& prepared(std::string_view sql);
  Outcome collect(PGresult* result, std::string_view sql);

  PGconn* conn_ = nullptr;
  std::string where_;
  std::unordered_map<std::string, Prepared> statements_;
  Prepared unnamed_;  // the statement of the call under way once statements_ is full
  std::uint64_t next_statement_ = 0;
};

// Throws the portable error for a failed result: ConstraintError (SQLSTATE class 23),
// StorageUnavailable (the connection, resources, timeouts, shutdown), DatabaseError otherwise.
[[noreturn]] void throw_for(const PGresult* result, PGconn* conn, std::string_view sql);

// "postgresql database <name> on <host>:<port> as <user>" — the URL without its password.
std::string describe_conninfo(const std::string& conninfo);

}  // namespace portico::store_postgres
