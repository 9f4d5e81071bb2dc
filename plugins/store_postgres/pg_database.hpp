// The PostgreSQL Database (plugin_api/portico/database.hpp) over a pool of libpq connections.
//
// Semantics kept from the built-in SQLite store, so plugins run unchanged:
//  - write transactions are serialized — across every node on the database — by one
//    transaction-scoped advisory lock taken after BEGIN, so a body that reads, decides and writes
//    sees nothing change under it (SQLite's single writer; PostgreSQL runs READ COMMITTED), and
//    the outbox's sequence order is its commit order;
//  - reads outside transactions run on any pooled connection and never wait for a writer;
//  - inside a transaction every execute() runs in a savepoint of its own (pipelined with it: one
//    round trip), so a caught error — a constraint the body handles — leaves the transaction
//    usable, as on SQLite;
//  - write_generation(): moved by this handle's own writes when they commit, and by every other
//    node's within a notification's latency: each write transaction ends with pg_notify() on the
//    channel, which a listening connection per node receives (LISTEN/NOTIFY: delivered on commit
//    only, in commit order, by the database every node already uses). While the listener is not
//    connected the generation moves on every call: caches check everything rather than serve
//    something stale.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "portico/database.hpp"

namespace portico::store_postgres {

struct PgOptions {
  std::string conninfo;  // postgresql:// URI or key=value connection string (libpq's)
  std::size_t pool_size = 8;
  std::chrono::milliseconds pool_timeout{5000};  // waiting for a free connection before 503
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds lock_timeout{5000};        // waiting for the write lock before 503
  std::chrono::milliseconds statement_timeout{30000};  // one statement, before 503
  std::string channel = "portico_writes";              // the NOTIFY channel of write commits
  std::chrono::milliseconds reconnect_interval{500};   // the listener, while the server is away
};

// Connects once (so a wrong address or password fails the start with libpq's reason) and starts
// the listener. Throws StorageUnavailable when the server cannot be reached, DatabaseError when
// the options are wrong.
std::shared_ptr<Database> open_postgres(const PgOptions& options);

}  // namespace portico::store_postgres
