// The connections of one PostgreSQL store: up to pool_size, opened on demand, each used by one
// caller at a time (a Lease); a connection the server closed while idle, or one handed back
// broken or inside a transaction, is dropped rather than reused.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pg_connection.hpp"
#include "pg_database.hpp"

namespace portico::store_postgres {

class Pool {
 public:
  Pool(PgOptions options, std::string where);

  // A new connection outside the pool (the listener's), with the pool's settings.
  std::unique_ptr<PgConnection> connect() const;

  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<PgConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ~Lease() { pool_.give_back(std::move(connection_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    PgConnection& operator*() { return *connection_; }
    PgConnection* operator->() { return connection_.get(); }

   private:
    Pool& pool_;
    std::unique_ptr<PgConnection> connection_;
  };

  // A connection for the caller; StorageUnavailable when none frees up within pool_timeout, or
  // when a new one cannot be opened.
  Lease acquire();

  const std::string& where() const { return where_; }

 private:
  void give_back(std::unique_ptr<PgConnection> connection);

  PgOptions options_;
  std::string where_;
  std::string options_string_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::size_t open_ = 0;
};

}  // namespace portico::store_postgres
