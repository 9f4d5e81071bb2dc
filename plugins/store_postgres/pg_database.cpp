#include "pg_database.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "pg_connection.hpp"
#include "pg_pool.hpp"
#include "sql_text.hpp"

namespace portico::store_postgres {

namespace {

// The advisory lock every write transaction holds until it ends ("portico" in ASCII).
constexpr const char* kBeginAndLock = "BEGIN; SELECT pg_advisory_xact_lock(31654359891289967)";
constexpr const char* kBeginLockAndSavepoint =
    "BEGIN; SELECT pg_advisory_xact_lock(31654359891289967); SAVEPOINT portico_body";

std::string random_node_id() {
  std::random_device device;
  std::uniform_int_distribution<std::uint64_t> any;
  const std::uint64_t value = any(device) ^ (static_cast<std::uint64_t>(getpid()) << 32);
  char text[17];
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) text[i] = hex[(value >> (60 - 4 * i)) & 0xF];
  text[16] = '\0';
  return text;
}

bool valid_channel(const std::string& channel) {
  if (channel.empty() || channel.size() > 63) return false;
  if (std::isdigit(static_cast<unsigned char>(channel[0]))) return false;
  for (char c : channel) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

// leading_keyword(), its SqlTextError (an unterminated leading comment) as the API's error.
std::string keyword_of(std::string_view sql) {
  try {
    return leading_keyword(sql);
  } catch (const SqlTextError& e) {
    throw DatabaseError(std::string(e.what()) + " in: " + std::string(sql.substr(0, 300)));
  }
}

// A statement that begins or ends a transaction: the store does that, never a body.
void refuse_transaction_control(std::string_view sql) {
  const std::string keyword = keyword_of(sql);
  if (keyword == "BEGIN" || keyword == "COMMIT" || keyword == "END" || keyword == "START" ||
      keyword == "ABORT" || keyword == "PREPARE") {
    throw DatabaseError(keyword + " inside Database::transaction(): the store begins and ends "
                                  "transactions; a body uses SAVEPOINT of its own at most");
  }
  if (keyword == "ROLLBACK") {
    // ROLLBACK TO: the word after ROLLBACK (past whitespace and comments, not in one) is TO.
    const std::string_view first = detail::first_words(sql, 1);
    const std::string_view rest =
        sql.substr(static_cast<std::size_t>(first.data() + first.size() - sql.data()));
    if (!detail::iequal(keyword_of(rest), "TO")) {
      throw DatabaseError("ROLLBACK inside Database::transaction(): throw from the body instead");
    }
  }
}

bool is_read(std::string_view sql) {
  const std::string keyword = keyword_of(sql);
  return keyword == "SELECT" || keyword == "VALUES" || keyword == "SHOW" || keyword == "TABLE" ||
         keyword == "EXPLAIN";
}

// The Session a body gets: its transaction's connection, to the thread running the body, until
// the body returns. One per database, as bodies run one at a time (in batches, on the leader's
// thread), so a reference kept past its body finds it closed (or open to another thread)
// rather than freed.
class PgSession final : public Session {
 public:
  void open(PgConnection& connection) {
    connection_ = &connection;
    owner_ = std::this_thread::get_id();
    wrote_ = false;
  }

  Rows query(std::string_view sql, const Params& params) override {
    refuse_transaction_control(sql);
    Outcome outcome = checked().run(sql, params, false);
    wrote_ = wrote_ || outcome.wrote;
    return std::move(outcome.rows);
  }
  std::int64_t execute(std::string_view sql, const Params& params) override {
    refuse_transaction_control(sql);
    wrote_ = true;
    return checked().run(sql, params, true).changed;
  }
  void execute_script(std::string_view sql) override {
    try {
      for (std::string_view statement : split_statements(sql)) refuse_transaction_control(statement);
    } catch (const SqlTextError& e) {
      throw DatabaseError(e.what());
    }
    wrote_ = true;
    checked().run_script(sql);
  }

  void close() { connection_ = nullptr; }
  bool wrote() const { return wrote_; }

 private:
  PgConnection& checked() const {
    if (!connection_ || owner_ != std::this_thread::get_id()) {
      throw DatabaseError("this Session belongs to a transaction that has ended");
    }
    return *connection_;
  }

  PgConnection* connection_ = nullptr;
  std::thread::id owner_;
  bool wrote_ = false;
};

thread_local const void* tl_in_transaction_of = nullptr;

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(PgOptions options)
      : options_(options),
        pool_(options, describe_conninfo(options.conninfo)),
        node_id_(random_node_id()) {
    notify_and_commit_ = "SELECT pg_notify('" + options_.channel + "', '" + node_id_ +
                         "'); COMMIT";
    // The first connections now: a wrong address, password or database fails the start, and
    // other nodes' commits are heard from the first call on.
    { auto lease = pool_.acquire(); }
    auto listening = start_listening();
    listening_ = true;
    wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_ < 0) throw DatabaseError("eventfd failed");
    listener_ = std::thread([this, first = std::move(listening)]() mutable {
      listen(std::move(first));
    });
  }

  ~PgDatabase() override {
    stopping_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_, &one, sizeof one);
    if (listener_.joinable()) listener_.join();
    close(wake_);
  }

  Rows query(std::string_view sql, const Params& params) override {
    if (!is_read(sql)) {
      Rows rows;
      transaction([&](Session& tx) { rows = tx.query(sql, params); });
      return rows;
    }
    auto lease = pool_.acquire();
    return lease->run(sql, params, false).rows;
  }

  std::int64_t execute(std::string_view sql, const Params& params) override {
    std::int64_t changed = 0;
    transaction([&](Session& tx) { changed = tx.execute(sql, params); });
    return changed;
  }

  void execute_script(std::string_view sql) override {
    transaction([&](Session& tx) { tx.execute_script(sql); });
  }

  // Group commit, as the SQLite store does it: concurrent callers queue; one leads a batch —
  // BEGIN, the write lock, each body in a savepoint of its own (a body that throws is rolled back
  // to it, alone), one COMMIT — and wakes them. One lock turn and one WAL flush per batch instead
  // of per transaction: the lock is what every node's writes wait for. Bodies run on the
  // leader's thread (the API allows it: docs/plugins.md, "Transactions").
  void transaction(const std::function<void(Session&)>& body) override {
    if (tl_in_transaction_of == this) {
      throw DatabaseError(
          "Database::transaction() called inside a transaction body: use the body's Session "
          "(a second transaction would wait for the first forever)");
    }
    Member me{&body, nullptr, false};
    std::unique_lock lock(batch_mutex_);
    queue_.push_back(&me);
    // Waiting for this node's writer is waiting for its connection: pool_timeout at most, while
    // no batch has taken the body (once taken, it runs and its caller waits for the commit).
    const auto deadline = std::chrono::steady_clock::now() + options_.pool_timeout;
    while (!me.done) {
      if (leading_) {
        if (batch_done_.wait_until(lock, deadline) == std::cv_status::timeout) {
          const auto queued = std::find(queue_.begin(), queue_.end(), &me);
          if (queued != queue_.end()) {
            queue_.erase(queued);
            const std::string why = "the writer of " + pool_.where() + " stayed busy for " +
                                    std::to_string(options_.pool_timeout.count()) + " ms";
            lock.unlock();
            set_failure(why);
            throw StorageUnavailable(why);
          }
          batch_done_.wait(lock, [&] { return me.done; });
        }
        continue;
      }
      leading_ = true;
      std::vector<Member*> batch;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      lock.unlock();
      run_batch(batch);
      lock.lock();
      for (Member* member : batch) member->done = true;
      leading_ = false;
      batch_done_.notify_all();
    }
    lock.unlock();
    if (me.error) std::rethrow_exception(me.error);
  }

  std::string backend_name() const override { return "postgres"; }

  std::uint64_t write_generation() const override {
    if (!listening_.load(std::memory_order_acquire)) {
      // Other nodes' commits cannot be heard: every call is "something may have changed".
      return generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
    }
    return generation_.load(std::memory_order_acquire);
  }

  std::string write_failure() const override {
    std::lock_guard lock(failure_mutex_);
    return failure_;
  }

 private:
  struct Member {
    const std::function<void(Session&)>* body;
    std::exception_ptr error;  // what the caller gets: its body's, or why nothing was committed
    bool done;
  };
  static constexpr std::size_t kMaxBatch = 64;

  // The transaction of one batch; never throws: each member leaves with its error or none.
  void run_batch(const std::vector<Member*>& batch) {
    const bool alone = batch.size() == 1;
    bool wrote = false;      // a body's writes are (or were, before a rollback) in the batch
    bool committing = false;  // some body succeeded: COMMIT
    try {
      auto lease = pool_.acquire();
      PgConnection& connection = *lease;
      connection.command(alone ? kBeginAndLock : kBeginLockAndSavepoint);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        Member& member = *batch[i];
        try {
          run_body(*member.body, connection);
          wrote = wrote || session_.wrote();
        } catch (const StorageUnavailable&) {
          throw;  // the connection: the whole batch
        } catch (...) {
          wrote = wrote || session_.wrote();
          member.error = std::current_exception();
          // Back to before this body; the savepoint stays for the next one.
          if (!alone) connection.command("ROLLBACK TO SAVEPOINT portico_body");
          continue;
        }
        committing = true;
        if (!alone && i + 1 < batch.size()) {
          connection.command("RELEASE SAVEPOINT portico_body; SAVEPOINT portico_body");
        }
      }
      if (!committing) {
        rollback(connection);
      } else if (wrote) {
        connection.command(notify_and_commit_.c_str());
      } else {
        connection.command("COMMIT");
      }
      if (committing) set_failure({});
      // After the commit, before anyone is answered; counted for rolled-back writes too (a
      // reader may have looked meanwhile).
      if (wrote) generation_.fetch_add(1, std::memory_order_acq_rel);
    } catch (...) {
      // Nothing of the batch committed (or, the connection lost during COMMIT, unknown).
      const std::exception_ptr why = std::current_exception();
      try {
        throw;
      } catch (const StorageUnavailable& e) {
        set_failure(e.what());
      } catch (...) {
      }
      generation_.fetch_add(1, std::memory_order_acq_rel);
      for (Member* member : batch) {
        if (!member->error) member->error = why;
      }
    }
  }

  // One body, in session_ (open to this thread while it runs) on the batch's connection.
  void run_body(const std::function<void(Session&)>& body, PgConnection& connection) {
    session_.open(connection);
    tl_in_transaction_of = this;
    struct Close {
      PgSession& session;
      ~Close() {
        tl_in_transaction_of = nullptr;
        session.close();  // wrote() stays readable until the next open()
      }
    } close{session_};
    body(session_);
    if (PQtransactionStatus(connection.raw()) == PQTRANS_INERROR) {
      throw DatabaseError(
          "a statement of the transaction failed and the body went on; nothing was committed");
    }
  }

  static void rollback(PgConnection& connection) {
    if (connection.broken()) return;
    PGresult* result = PQexec(connection.raw(), "ROLLBACK");
    if (result) PQclear(result);
  }

  void set_failure(std::string why) {
    std::lock_guard lock(failure_mutex_);
    failure_ = std::move(why);
  }

  std::unique_ptr<PgConnection> start_listening() {
    auto connection = pool_.connect();
    connection->command(("LISTEN " + options_.channel).c_str());
    return connection;
  }

  // The listening connection: LISTEN on the channel, wait on its socket, and move the generation
  // for every other node's commit. Reconnects while the server is away.
  void listen(std::unique_ptr<PgConnection> connection) {
    while (!stopping_) {
      if (!connection) {
        try {
          connection = start_listening();
        } catch (const std::exception&) {
          if (wait_for_wake(options_.reconnect_interval)) return;
          continue;
        }
        // Whatever committed while nobody listened counts as a change.
        generation_.fetch_add(1, std::memory_order_acq_rel);
        listening_ = true;
      }
      PGconn* raw = connection->raw();
      while (!stopping_) {
        pollfd fds[2] = {{PQsocket(raw), POLLIN, 0}, {wake_, POLLIN, 0}};
        const int ready = poll(fds, 2, 1000);
        if (stopping_) break;
        if (ready == 0) {
          // Quiet for a second: ask, so that a connection gone without a word is noticed.
          PGresult* ping = PQexec(raw, "SELECT 1");
          const bool alive = ping && PQresultStatus(ping) == PGRES_TUPLES_OK;
          if (ping) PQclear(ping);
          if (!alive) break;
        } else if (ready < 0 || PQconsumeInput(raw) == 0) {
          break;
        }
        bool moved = false;
        while (PGnotify* note = PQnotifies(raw)) {
          if (node_id_ != note->extra) moved = true;
          PQfreemem(note);
        }
        if (moved) generation_.fetch_add(1, std::memory_order_acq_rel);
        if (PQstatus(raw) != CONNECTION_OK) break;
      }
      listening_ = false;
      connection.reset();
      if (!stopping_ && wait_for_wake(options_.reconnect_interval)) return;
    }
  }

  // Sleeps `interval` or until the destructor wakes the listener; true when stopping.
  bool wait_for_wake(std::chrono::milliseconds interval) {
    pollfd fd{wake_, POLLIN, 0};
    poll(&fd, 1, static_cast<int>(interval.count()));
    return stopping_;
  }

  PgOptions options_;
  Pool pool_;
  PgSession session_;  // the leader's, for each body of its batch in turn
  std::string node_id_;
  std::string notify_and_commit_;
  mutable std::atomic<std::uint64_t> generation_{1};
  std::atomic<bool> listening_{false};
  std::atomic<bool> stopping_{false};
  int wake_ = -1;
  std::thread listener_;
  mutable std::mutex failure_mutex_;
  std::string failure_;
  std::mutex batch_mutex_;
  std::condition_variable batch_done_;
  std::deque<Member*> queue_;  // callers waiting for a batch, oldest first
  bool leading_ = false;       // a caller is running a batch
};

// libpq's reasons for refusing an address may quote it whole, or the token it could not decode:
// the passwords in it (postgresql://user:password@…, password=…) become "***" there.
std::string without_passwords(std::string why, std::string_view conninfo) {
  std::vector<std::string_view> secrets;
  if (const std::size_t scheme = conninfo.find("://"); scheme != std::string_view::npos) {
    const std::size_t start = scheme + 3;  // user:password@ ends at the first '@' before a '/'
    const std::size_t at = conninfo.find_first_of("@/", start);
    const std::size_t colon = conninfo.find(':', start);
    if (at != std::string_view::npos && conninfo[at] == '@' && colon < at) {
      secrets.push_back(conninfo.substr(colon + 1, at - colon - 1));
    }
  }
  for (std::size_t key = conninfo.find("password="); key != std::string_view::npos;
       key = conninfo.find("password=", key + 1)) {
    const std::size_t value = key + 9;
    secrets.push_back(conninfo.substr(value, conninfo.find_first_of("& ", value) - value));
  }
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = why.find(secret); at != std::string::npos;
         at = why.find(secret, at + 3)) {
      why.replace(at, secret.size(), "***");
    }
  }
  return why;
}

}  // namespace

std::shared_ptr<Database> open_postgres(const PgOptions& options) {
  if (options.conninfo.empty()) throw DatabaseError("no PostgreSQL address given");
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.conninfo.c_str(), &error);
  if (!parsed) {
    std::string why = error ? error : "unreadable";
    if (error) PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    why = without_passwords(std::move(why), options.conninfo);
    throw DatabaseError("the PostgreSQL address is not a postgresql:// URI or connection string: " +
                        why);
  }
  PQconninfoFree(parsed);
  if (options.pool_size < 1) throw DatabaseError("pool_size must be at least 1");
  if (!valid_channel(options.channel)) {
    throw DatabaseError("notify_channel '" + options.channel +
                        "' must be 1 to 63 lower-case letters, digits and underscores");
  }
  return std::make_shared<PgDatabase>(options);
}

}  // namespace portico::store_postgres
