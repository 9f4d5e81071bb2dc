// The SQLite Database: one writer connection behind a mutex (autocommit writes and transactions,
// which start with BEGIN IMMEDIATE) and a pool of read-only connections for queries, so readers
// never wait for writers (WAL) and writers never fight over SQLite's own lock.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "core/storage/sqlite_connection.hpp"
#include "core/storage/sqlite_database.hpp"

namespace portico::storage {

namespace {

using detail::SqliteConnection;

// A statement like BEGIN or SAVEPOINT run outside Database::transaction() would leave the
// connection inside a transaction nobody owns; undo it and say what to use instead.
void refuse_stray_transaction(SqliteConnection& connection, std::string_view sql) {
  if (connection.in_transaction()) {
    connection.rollback_quietly();
    throw DatabaseError("use Database::transaction() to open a transaction (SQL: " +
                        detail::sql_excerpt(sql) + ")");
  }
}

// The Session given to a transaction body. It refuses use after the transaction ended and use
// from another thread, either of which would race on the writer connection.
class TransactionSession final : public Session {
 public:
  explicit TransactionSession(SqliteConnection& writer)
      : writer_(writer), thread_(std::this_thread::get_id()) {}

  Rows query(std::string_view sql, const Params& params) override {
    check();
    return writer_.query(sql, params);
  }
  std::int64_t execute(std::string_view sql, const Params& params) override {
    check();
    return writer_.execute(sql, params);
  }
  void execute_script(std::string_view sql) override {
    check();
    writer_.execute_script(sql);
  }
  void close() { open_ = false; }

 private:
  void check() const {
    if (!open_) throw DatabaseError("the transaction this Session belongs to has ended");
    if (std::this_thread::get_id() != thread_) {
      throw DatabaseError("a transaction Session must be used on the thread that opened it");
    }
  }

  SqliteConnection& writer_;
  std::thread::id thread_;
  bool open_ = true;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(const SqliteOptions& options) {
    writer_ = std::make_unique<SqliteConnection>(options.path, SqliteConnection::Mode::read_write,
                                                 options.busy_timeout);
    try {
      configure_writer();
    } catch (const DatabaseError& error) {
      // e.g. "file is not a database": the message must say which file.
      throw DatabaseError("cannot open SQLite database " + options.path + ": " + error.what());
    }
    // Readers open after the writer so the file and its WAL mode already exist.
    for (int i = 0; i < options.readers; ++i) {
      readers_.push_back(std::make_unique<SqliteConnection>(
          options.path, SqliteConnection::Mode::read_only, options.busy_timeout));
      idle_readers_.push_back(readers_.back().get());
    }
  }

  Rows query(std::string_view sql, const Params& params) override {
    if (in_own_transaction()) return writer_->query(sql, params);
    if (!readers_.empty()) {
      ReaderLease reader(*this);
      if (reader->is_read_only(sql)) {
        Rows rows = reader->query(sql, params);
        refuse_stray_transaction(*reader, sql);
        return rows;
      }
    }
    // Writing statements (INSERT ... RETURNING) go to the writer.
    std::lock_guard lock(writer_mutex_);
    Rows rows = writer_->query(sql, params);
    refuse_stray_transaction(*writer_, sql);
    return rows;
  }

  std::int64_t execute(std::string_view sql, const Params& params) override {
    if (in_own_transaction()) return writer_->execute(sql, params);
    std::lock_guard lock(writer_mutex_);
    std::int64_t changed = writer_->execute(sql, params);
    refuse_stray_transaction(*writer_, sql);
    return changed;
  }

  void execute_script(std::string_view sql) override {
    if (in_own_transaction()) return writer_->execute_script(sql);
    std::lock_guard lock(writer_mutex_);
    try {
      writer_->execute_script(sql);
    } catch (...) {
      writer_->rollback_quietly();
      throw;
    }
    refuse_stray_transaction(*writer_, sql);
  }

  void transaction(const std::function<void(Session&)>& body) override {
    // The writer mutex is not recursive: waiting on it here would deadlock this thread.
    if (in_own_transaction()) {
      throw DatabaseError("nested transaction: Database::transaction() called inside a body");
    }
    std::lock_guard lock(writer_mutex_);
    writer_->execute("BEGIN IMMEDIATE", {});
    TransactionOwner owner(transaction_thread_);
    TransactionSession session(*writer_);
    try {
      body(session);
    } catch (...) {
      session.close();
      writer_->rollback_quietly();
      throw;
    }
    session.close();
    if (!writer_->in_transaction()) {
      throw DatabaseError(
          "the transaction ended before its body returned (SQLite rolled it back after an error, "
          "or the body ran COMMIT/ROLLBACK itself)");
    }
    try {
      writer_->execute("COMMIT", {});
    } catch (...) {
      writer_->rollback_quietly();  // e.g. a deferred foreign key violation keeps it open
      throw;
    }
  }

  std::string backend_name() const override { return "sqlite"; }

 private:
  // Marks the calling thread as the one inside a transaction, for as long as it lives.
  class TransactionOwner {
   public:
    explicit TransactionOwner(std::atomic<std::thread::id>& slot) : slot_(slot) {
      slot_.store(std::this_thread::get_id());
    }
    ~TransactionOwner() { slot_.store(std::thread::id()); }
    TransactionOwner(const TransactionOwner&) = delete;
    TransactionOwner& operator=(const TransactionOwner&) = delete;

   private:
    std::atomic<std::thread::id>& slot_;
  };

  // Takes an idle reader for one call, waiting while all are busy.
  class ReaderLease {
   public:
    explicit ReaderLease(SqliteDatabase& db) : db_(db) {
      std::unique_lock lock(db_.readers_mutex_);
      db_.reader_idle_.wait(lock, [&] { return !db_.idle_readers_.empty(); });
      connection_ = db_.idle_readers_.back();
      db_.idle_readers_.pop_back();
    }
    ~ReaderLease() {
      {
        std::lock_guard lock(db_.readers_mutex_);
        db_.idle_readers_.push_back(connection_);
      }
      db_.reader_idle_.notify_one();
    }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    SqliteConnection* operator->() const { return connection_; }
    SqliteConnection& operator*() const { return *connection_; }

   private:
    SqliteDatabase& db_;
    SqliteConnection* connection_ = nullptr;
  };

  void configure_writer() {
    auto mode = writer_->query("PRAGMA journal_mode=WAL", {});
    if (mode.empty() || mode.front().text(0) != "wal") {
      throw DatabaseError("cannot switch to WAL journal mode");
    }
    // NORMAL in WAL mode survives a process crash (kill -9); only power loss may drop the last
    // commits, and the database is never corrupted.
    writer_->execute("PRAGMA synchronous=NORMAL", {});
    writer_->execute("PRAGMA foreign_keys=ON", {});
  }

  // Only the thread itself ever stores its own id here, so another thread's transaction can
  // never look like ours.
  bool in_own_transaction() const {
    return transaction_thread_.load() == std::this_thread::get_id();
  }

  std::mutex writer_mutex_;
  std::unique_ptr<SqliteConnection> writer_;
  std::atomic<std::thread::id> transaction_thread_{};

  std::mutex readers_mutex_;
  std::condition_variable reader_idle_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;
  std::vector<SqliteConnection*> idle_readers_;
};

}  // namespace

std::shared_ptr<Database> open_sqlite(const SqliteOptions& options) {
  if (options.path.empty() || options.path == ":memory:" || options.path.starts_with("file:")) {
    throw DatabaseError("SQLite database path must be a file path, got '" + options.path + "'");
  }
  if (options.readers < 0) throw DatabaseError("SQLite readers must be 0 or more");
  std::filesystem::path parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) {
      throw DatabaseError("cannot create directory " + parent.string() + " for SQLite database " +
                          options.path + ": " + error.message());
    }
  }
  return std::make_shared<SqliteDatabase>(options);
}

}  // namespace portico::storage
