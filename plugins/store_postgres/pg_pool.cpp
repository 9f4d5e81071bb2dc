#include "pg_pool.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>

namespace portico::store_postgres {

namespace {

// An idle connection has nothing to read. One that has — the FATAL of a server shutting down or
// of a terminated backend, then the end of the stream — is dead, though libpq cannot tell until
// it is used: a server restart would otherwise fail a call per pooled connection.
bool closed_by_server(PgConnection& connection) {
  if (connection.broken()) return true;
  pollfd fd{PQsocket(connection.raw()), POLLIN, 0};
  return poll(&fd, 1, 0) != 0;
}

}  // namespace

Pool::Pool(PgOptions options, std::string where)
    : options_(std::move(options)), where_(std::move(where)) {
  options_string_ = "-c statement_timeout=" + std::to_string(options_.statement_timeout.count()) +
                    " -c lock_timeout=" + std::to_string(options_.lock_timeout.count());
}

std::unique_ptr<PgConnection> Pool::connect() const {
  const auto seconds = std::max<std::int64_t>(
      1, (options_.connect_timeout.count() + 999) / 1000);  // libpq counts whole seconds
  return std::make_unique<PgConnection>(options_.conninfo, where_, seconds, options_string_);
}

Pool::Lease Pool::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + options_.pool_timeout;
  while (true) {
    while (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      if (!closed_by_server(*connection)) return Lease(*this, std::move(connection));
      --open_;  // dropped: the next one, or a new connection
    }
    if (open_ < options_.pool_size) {
      ++open_;
      lock.unlock();
      try {
        return Lease(*this, connect());
      } catch (...) {
        lock.lock();
        --open_;
        available_.notify_one();
        throw;
      }
    }
    if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size) {
      throw StorageUnavailable("all " + std::to_string(options_.pool_size) + " connections to " +
                               where_ + " stayed busy for " +
                               std::to_string(options_.pool_timeout.count()) + " ms");
    }
  }
}

void Pool::give_back(std::unique_ptr<PgConnection> connection) {
  std::unique_ptr<PgConnection> closing;
  {
    std::lock_guard lock(mutex_);
    if (connection && connection->usable()) {
      idle_.push_back(std::move(connection));
    } else {
      closing = std::move(connection);  // lost, or left inside a transaction: never reused
      --open_;
    }
  }
  available_.notify_one();
}

}  // namespace portico::store_postgres
