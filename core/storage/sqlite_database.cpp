// The SQLite Database: one writer connection behind a mutex (autocommit writes and transactions,
// which start with BEGIN IMMEDIATE) and a pool of read-only connections for queries, so readers
// never wait for writers (WAL) and writers never fight over SQLite's own lock. Concurrent
// transactions share commits (group_commit.hpp).
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "core/storage/group_commit.hpp"
#include "core/storage/sqlite_connection.hpp"
#include "core/storage/sqlite_database.hpp"
#include "portico/sdk/thread_name.hpp"

namespace portico::storage {

namespace {

using detail::GroupCommit;
using detail::SqliteConnection;

// The connection's PRAGMA data_version: it moves with every other connection's commit. Read
// every 100 ms while the process runs, so it allocates nothing (no Rows).
std::int64_t data_version(SqliteConnection& connection) {
  return connection.query_integer("PRAGMA data_version");
}

// A statement like BEGIN or SAVEPOINT run outside Database::transaction() would leave the
// connection inside a transaction nobody owns; undo it and say what to use instead.
void refuse_stray_transaction(SqliteConnection& connection, std::string_view sql) {
  if (connection.in_transaction()) {
    connection.rollback_quietly();
    throw DatabaseError("use Database::transaction() to open a transaction (SQL: " +
                        detail::sql_excerpt(sql) + ")");
  }
}

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(const SqliteOptions& options) : busy_timeout_(options.busy_timeout) {
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
    group_commit_ = std::make_unique<GroupCommit>(
        [this](const std::function<void(SqliteConnection&)>& work, bool counted) {
          std::lock_guard lock(writer_mutex_);
          WriteDone done(write_generation_, counted);  // after the commit, before any caller wakes
          TransactionOwner owner(transaction_thread_);  // the bodies run on this thread
          work(*writer_);
        },
        static_cast<std::size_t>(options.group_commit_limit));
    checkpointer_ = std::make_unique<SqliteConnection>(
        options.path, SqliteConnection::Mode::read_write, options.busy_timeout);
    // The first round's baseline is taken here, before any cache can read the database: taken
    // by the thread's first round instead, 100 ms on, a commit from outside landing in between
    // became the baseline and was never seen (a flaky test found it).
    const std::int64_t version = data_version(*checkpointer_);
    const std::int64_t by_writer = data_version(*writer_);
    checkpoint_thread_ = std::thread([this, version, by_writer] {
      sdk::name_this_thread("sqlite-wal");
      checkpoint_while_open(version, by_writer);
    });
  }

  ~SqliteDatabase() override {
    {
      std::lock_guard lock(checkpoint_mutex_);
      closing_ = true;
    }
    checkpoint_wake_.notify_one();
    checkpoint_thread_.join();
  }

  Rows query(std::string_view sql, const Params& params) override {
    if (in_own_transaction()) {
      detail::refuse_transaction_control(sql);
      return writer_->query(sql, params);
    }
    if (!readers_.empty()) {
      ReaderLease reader(*this);
      if (reader->is_read_only(sql)) {
        Rows rows = reader->query(sql, params);
        refuse_stray_transaction(*reader, sql);
        return rows;
      }
    }
    // Writing statements (INSERT ... RETURNING) go to the writer.
    return tracked([&] {
      std::lock_guard lock(writer_mutex_);
      WriteDone done(write_generation_);
      Rows rows = writer_->query(sql, params);
      refuse_stray_transaction(*writer_, sql);
      return rows;
    });
  }

  std::int64_t execute(std::string_view sql, const Params& params) override {
    if (in_own_transaction()) {
      detail::refuse_transaction_control(sql);
      return writer_->execute(sql, params);
    }
    return tracked([&] {
      std::lock_guard lock(writer_mutex_);
      WriteDone done(write_generation_);
      std::int64_t changed = writer_->execute(sql, params);
      refuse_stray_transaction(*writer_, sql);
      return changed;
    });
  }

  void execute_script(std::string_view sql) override {
    if (in_own_transaction()) {
      detail::refuse_transaction_control_in_script(sql);
      return writer_->execute_script(sql);
    }
    tracked([&] {
      std::lock_guard lock(writer_mutex_);
      WriteDone done(write_generation_);
      try {
        writer_->execute_script(sql);
      } catch (...) {
        writer_->rollback_quietly();
        throw;
      }
      refuse_stray_transaction(*writer_, sql);
      return 0;
    });
  }

  void transaction(const std::function<void(Session&)>& body) override {
    // Inside a body this thread is the one running the batch: it would wait for itself.
    if (in_own_transaction()) {
      throw DatabaseError("nested transaction: Database::transaction() called inside a body");
    }
    tracked([&] {
      group_commit_->run(body);
      return 0;
    });
  }

  // transaction() whose writes do not move write_generation() (bookkeeping_transaction()).
  void uncounted_transaction(const std::function<void(Session&)>& body) {
    if (in_own_transaction()) {
      throw DatabaseError("nested transaction: Database::transaction() called inside a body");
    }
    tracked([&] {
      group_commit_->run(body, false);
      return 0;
    });
  }

  std::string backend_name() const override { return "sqlite"; }

  std::uint64_t write_generation() const override {
    return write_generation_.load(std::memory_order_acquire);
  }

  std::string write_failure() const override {
    if (!write_failing_.load(std::memory_order_acquire)) return {};
    std::lock_guard lock(write_failure_mutex_);
    return write_failure_;
  }

 private:
  // Runs a write and remembers whether the store took it: a StorageUnavailable marks writes as
  // failing (readiness reports it) until a later write succeeds. Other errors say nothing about
  // the store. One atomic load on the usual path.
  template <typename Write>
  auto tracked(Write&& write) -> decltype(write()) {
    try {
      auto result = write();
      if (write_failing_.load(std::memory_order_acquire)) {
        std::lock_guard lock(write_failure_mutex_);
        write_failure_.clear();
        write_failing_.store(false, std::memory_order_release);
      }
      return result;
    } catch (const StorageUnavailable& error) {
      std::lock_guard lock(write_failure_mutex_);
      write_failure_ = error.what();
      write_failing_.store(true, std::memory_order_release);
      throw;
    }
  }

  // Bumps the write generation when a write call ends, whatever its outcome: after the commit,
  // so a reader that sees the old value read data from before the write or a moment after it,
  // and one that sees the new value reads everything the write committed.
  class WriteDone {
   public:
    explicit WriteDone(std::atomic<std::uint64_t>& generation, bool counted = true)
        : generation_(generation), counted_(counted) {}
    ~WriteDone() {
      if (counted_) generation_.fetch_add(1, std::memory_order_release);
    }
    WriteDone(const WriteDone&) = delete;
    WriteDone& operator=(const WriteDone&) = delete;

   private:
    std::atomic<std::uint64_t>& generation_;
    bool counted_;
  };

  // Marks the calling thread as the one inside a transaction, for as long as it lives: the thread
  // leading a batch, which runs every body of it, so a body's direct calls on the Database (not
  // on its Session) run on the writer inside the transaction too.
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
      db_.reader_idle_.wait(lock,
                            [&] { return !db_.readers_paused_ && !db_.idle_readers_.empty(); });
      connection_ = db_.idle_readers_.back();
      db_.idle_readers_.pop_back();
    }
    ~ReaderLease() {
      bool paused = false;
      {
        std::lock_guard lock(db_.readers_mutex_);
        db_.idle_readers_.push_back(connection_);
        paused = db_.readers_paused_;
      }
      // While restart_wal() waits for the pool to be idle, it waits on the same condition as the
      // callers waiting for a reader: wake them all then, so it is among them.
      if (paused) {
        db_.reader_idle_.notify_all();
      } else {
        db_.reader_idle_.notify_one();
      }
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
    // Checkpoints (copying the WAL into the database, with an fsync) are the checkpointer's job:
    // done by the committing connection they would run inside a commit, holding up every writer.
    writer_->execute("PRAGMA wal_autocheckpoint=0", {});
    // When the log starts over (restart_wal()), the file is cut back to this size: a burst
    // leaves no gigabyte-sized WAL behind.
    writer_->query("PRAGMA journal_size_limit=67108864", {});
  }

  // Every 100 ms, on a connection of its own: when anything was committed since the last round
  // (PRAGMA data_version of this connection moves with every other connection's commit) a
  // PASSIVE checkpoint runs, which never waits for readers or the writer; and when that commit
  // was not this process's writer's (the writer's own data_version moved: another process), the
  // write generation moves too, so a writer outside the process is seen within a round.
  //
  // PASSIVE alone never lets the WAL start over under a steady stream of commits: SQLite rewinds
  // it only when a writer begins while every frame is already in the database, and a commit
  // always lands between the checkpoint and the next writer. The log then grows without end
  // (1.2 GB after 30 s of orders), and every commit appends to fresh file blocks. So once the log
  // holds kRestartFrames or more, the round holds the writer back for a moment and runs a
  // RESTART checkpoint: the few frames committed since the PASSIVE one, with the pool's readers
  // held back too (restart_wal()); a query that does not end within kRestartWait is not waited
  // out — the next round tries again — and the next commit writes from the top of the file.
  void checkpoint_while_open(std::int64_t seen_version, std::int64_t seen_by_writer) {
    std::unique_lock lock(checkpoint_mutex_);
    while (!closing_) {
      checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return closing_; });
      if (closing_) break;
      lock.unlock();
      try {
        const std::int64_t version = data_version(*checkpointer_);
        if (version != seen_version) {
          // Whether someone other than this process's writer committed: the writer's own
          // data_version moves only with other connections' commits. Its own commits moved the
          // write generation already — or, bookkeeping ones, are meant not to.
          const std::int64_t by_writer = [&] {
            std::lock_guard writer_lock(writer_mutex_);
            return data_version(*writer_);
          }();
          if (by_writer != seen_by_writer) {
            write_generation_.fetch_add(1, std::memory_order_release);
          }
          seen_by_writer = by_writer;
          seen_version = version;
          // One row: busy (0/1), frames in the log, frames now in the database.
          if (checkpointer_->query_integer("PRAGMA wal_checkpoint(PASSIVE)", 1) >= kRestartFrames) {
            restart_wal();
          }
        }
      } catch (const std::exception&) {
        // Busy or failing: the WAL keeps every commit; the next round tries again.
      }
      lock.lock();
    }
  }

  void restart_wal() {
    std::lock_guard writer(writer_mutex_);
    // A reader in the middle of a query still reads old frames and makes RESTART wait; under a
    // steady stream of queries one always is. New leases wait (at most kRestartWait) until the
    // pool is idle, so RESTART waits only for readers in other processes, if any.
    std::unique_lock readers(readers_mutex_);
    readers_paused_ = true;
    struct Resume {
      SqliteDatabase& db;
      std::unique_lock<std::mutex>& readers;
      ~Resume() {
        db.readers_paused_ = false;
        readers.unlock();
        db.reader_idle_.notify_all();
      }
    } resume{*this, readers};
    if (!reader_idle_.wait_for(readers, kRestartWait,
                               [&] { return idle_readers_.size() == readers_.size(); })) {
      return;  // a slow query: the next round tries again
    }
    checkpointer_->execute("PRAGMA busy_timeout=" + std::to_string(kRestartWait.count()), {});
    try {
      checkpointer_->query("PRAGMA wal_checkpoint(RESTART)", {});
    } catch (...) {
      checkpointer_->execute("PRAGMA busy_timeout=" + std::to_string(busy_timeout_.count()), {});
      throw;
    }
    checkpointer_->execute("PRAGMA busy_timeout=" + std::to_string(busy_timeout_.count()), {});
  }

  // Only the thread itself ever stores its own id here, so another thread's transaction can
  // never look like ours. A caller waiting for a batch led by another thread is blocked in
  // transaction() and makes no calls meanwhile.
  bool in_own_transaction() const {
    return transaction_thread_.load() == std::this_thread::get_id();
  }

  std::mutex writer_mutex_;
  std::atomic<bool> write_failing_{false};
  mutable std::mutex write_failure_mutex_;
  std::string write_failure_;
  std::atomic<std::uint64_t> write_generation_{0};
  std::unique_ptr<SqliteConnection> writer_;
  std::atomic<std::thread::id> transaction_thread_{};
  std::unique_ptr<GroupCommit> group_commit_;  // declared after what its writer access uses

  static constexpr std::int64_t kRestartFrames = 4096;  // 16 MiB of 4 KiB pages
  static constexpr std::chrono::milliseconds kRestartWait{5};
  std::chrono::milliseconds busy_timeout_;
  std::unique_ptr<SqliteConnection> checkpointer_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool closing_ = false;
  std::thread checkpoint_thread_;  // joined by the destructor before any connection closes

  std::mutex readers_mutex_;
  std::condition_variable reader_idle_;
  bool readers_paused_ = false;  // restart_wal() is waiting for every reader to be idle
  std::vector<std::unique_ptr<SqliteConnection>> readers_;
  std::vector<SqliteConnection*> idle_readers_;
};

}  // namespace

std::shared_ptr<Database> open_sqlite(const SqliteOptions& options) {
  if (options.path.empty() || options.path == ":memory:" || options.path.starts_with("file:")) {
    throw DatabaseError("SQLite database path must be a file path, got '" + options.path + "'");
  }
  if (options.readers < 0) throw DatabaseError("SQLite readers must be 0 or more");
  if (options.group_commit_limit < 1) {
    throw DatabaseError("SQLite group_commit_limit must be 1 or more");
  }
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

void bookkeeping_transaction(Database& db, const std::function<void(Session&)>& body) {
  if (auto* sqlite = dynamic_cast<SqliteDatabase*>(&db)) return sqlite->uncounted_transaction(body);
  db.transaction(body);
}

}  // namespace portico::storage
