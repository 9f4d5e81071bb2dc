// Group commit for the SQLite writer (internal to core/storage): concurrent
// Database::transaction() calls share one SQLite transaction and so one COMMIT. A commit writes
// every page the transaction touched to the WAL; transactions of one batch that touch the same
// pages (a table's last leaf, its indexes) write them once instead of once each.
//
// A caller arriving while a batch runs queues its body and waits; one arriving when none runs
// leads: it takes the writer, runs BEGIN IMMEDIATE, then its own body and those queued (oldest
// first, up to the limit), each between SAVEPOINT and RELEASE — a body that throws is rolled back
// to its savepoint and only its caller gets the exception — then one COMMIT, and only then wakes
// the callers. A lone caller runs BEGIN, its body, COMMIT, as before group commit. Bodies run on
// the leader's thread: a body must not count on its caller's thread-local state or on locks its
// caller holds around transaction().
//
// What may not be undone alone undoes the batch: when SQLite rolled the whole transaction back
// during a body, or the batch's own savepoint statements fail, or the COMMIT fails on a deferred
// constraint (whose body is unknown), nothing of the batch is committed, the body at fault gets
// its error and the others run again, each alone in its own transaction, and get what that gives.
// A body may therefore run twice, after a failure not its own; what it hands its caller is then
// what the second run left. A COMMIT or BEGIN that fails for the store's sake (disk full, I/O
// error, locked by another process) fails every body of the batch with that error. Bodies cannot
// end the transaction themselves: BEGIN, COMMIT, END and ROLLBACK (but ROLLBACK TO a savepoint
// of their own) are refused inside a transaction.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "core/storage/sqlite_connection.hpp"
#include "portico/database.hpp"

namespace portico::storage::detail {

// Throws DatabaseError when `sql` would begin or end a transaction; inside
// Database::transaction() only the backend does that.
void refuse_transaction_control(std::string_view sql);
// The same for every statement of a script.
void refuse_transaction_control_in_script(std::string_view script);

// The Session given to transaction bodies: one per GroupCommit, open only while a body runs and
// only to the thread running it, which is what keeps two threads off the writer connection. A
// reference kept past the body finds it closed (or open to another thread) rather than freed;
// one kept and used inside a later body on the same thread runs in that body's transaction.
class TransactionSession final : public Session {
 public:
  void open(SqliteConnection& writer);  // on the thread that runs the body
  void close();

  Rows query(std::string_view sql, const Params& params) override;
  std::int64_t execute(std::string_view sql, const Params& params) override;
  void execute_script(std::string_view sql) override;

 private:
  SqliteConnection& checked() const;

  SqliteConnection* writer_ = nullptr;  // set by open(), read only by the thread it opened for
  std::atomic<std::thread::id> owner_{};
};

class GroupCommit {
 public:
  using Body = std::function<void(Session&)>;
  // Runs `work` with the writer connection, which nobody else uses meanwhile (the SQLite
  // database: under the writer mutex, marking the thread as in a transaction, and counting a
  // write when `counted`).
  using WriterAccess =
      std::function<void(const std::function<void(SqliteConnection&)>& work, bool counted)>;

  // At most `max_batch` bodies share one commit; 1 gives every transaction its own commit, as
  // without group commit.
  GroupCommit(WriterAccess access, std::size_t max_batch);
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Runs body in a transaction, possibly shared with concurrent callers; returns once that
  // transaction has committed. Throws what the body threw, or why nothing of it was committed.
  // Must not be called from inside a body (the caller checks: it would wait for itself).
  // `counted` = false: the body writes only what nothing caches (the core's bookkeeping); a batch
  // of such bodies alone does not move the write generation.
  void run(const Body& body, bool counted = true);

  // Callers waiting behind the running batch.
  std::size_t waiting() const;

  struct Member;  // a waiting caller (group_commit.cpp)

 private:
  void lead(const std::shared_ptr<Member>& self, std::unique_lock<std::mutex>& lock);

  WriterAccess access_;
  std::size_t max_batch_;
  TransactionSession session_;  // used by the leader only

  mutable std::mutex mutex_;
  std::size_t in_run_ = 0;  // callers in run(), including those done but not yet returned
  bool leading_ = false;    // a caller is running a batch
  std::deque<std::shared_ptr<Member>> queue_;  // callers waiting for a batch, oldest first
};

}  // namespace portico::storage::detail
