// Group commit for the SQLite writer: the queue of waiting transactions, the leader that runs a
// batch of them as one SQLite transaction, and what happens when one of them cannot be undone
// alone (group_commit.hpp says why and what callers can rely on).
#include "core/storage/group_commit.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace portico::storage::detail {

namespace {

constexpr const char* kEndedEarly =
    "the transaction ended before its body returned (SQLite rolled it back after an error, or the "
    "body ran COMMIT/ROLLBACK itself)";

// Around each body of a batch, under a name no body picks for a savepoint of its own.
constexpr std::string_view kSavepoint = "SAVEPOINT portico_group_commit";
constexpr std::string_view kRelease = "RELEASE portico_group_commit";
constexpr std::string_view kRollbackTo = "ROLLBACK TO portico_group_commit";

bool is_word_character(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

// The next word of `sql` from `at`, upper-cased, skipping white space and comments.
std::string next_word(std::string_view sql, std::size_t& at) {
  for (;;) {
    while (at < sql.size() && std::isspace(static_cast<unsigned char>(sql[at]))) ++at;
    if (sql.substr(at, 2) == "--") {
      at = sql.find('\n', at);
    } else if (sql.substr(at, 2) == "/*") {
      at = sql.find("*/", at + 2);
      if (at != std::string_view::npos) at += 2;
    } else {
      break;
    }
    if (at == std::string_view::npos) at = sql.size();
  }
  std::string word;
  while (at < sql.size() && is_word_character(sql[at])) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[at++])));
  }
  return word;
}

bool is_constraint_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ConstraintError&) {
    return true;
  } catch (...) {
    return false;
  }
}

// A copy of the error for each caller, so that no two threads rethrow one exception object.
std::exception_ptr copy_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const StorageUnavailable& e) {
    return std::make_exception_ptr(e);
  } catch (const ConstraintError& e) {
    return std::make_exception_ptr(e);
  } catch (const DatabaseError& e) {
    return std::make_exception_ptr(e);
  } catch (...) {
    return error;
  }
}

enum class Outcome {
  kept,    // the body's writes are in the open transaction
  undone,  // the body threw; its writes were rolled back to its savepoint, the batch goes on
  lost,    // the open transaction can no longer be committed
};

}  // namespace

void refuse_transaction_control(std::string_view sql) {
  std::size_t at = 0;
  const std::string word = next_word(sql, at);
  if (word == "ROLLBACK") {
    std::string next = next_word(sql, at);
    if (next == "TRANSACTION") next = next_word(sql, at);
    if (next == "TO") return;  // to a savepoint of the body's own
  } else if (word != "BEGIN" && word != "COMMIT" && word != "END") {
    return;
  }
  throw DatabaseError(
      "a transaction body cannot begin or end the transaction: it commits when the body returns "
      "and rolls back when the body throws (SQL: " +
      sql_excerpt(sql) + ")");
}

void refuse_transaction_control_in_script(std::string_view script) {
  // sqlite3_complete() knows whether a ';' ends a statement or sits in a literal, a comment or
  // a trigger's BEGIN ... END.
  std::string statement;
  std::size_t start = 0;
  for (std::size_t i = 0; i < script.size(); ++i) {
    if (script[i] != ';') continue;
    statement.assign(script.substr(start, i + 1 - start));
    if (sqlite3_complete(statement.c_str()) == 0) continue;
    refuse_transaction_control(statement);
    start = i + 1;
  }
  refuse_transaction_control(script.substr(start));
}

void TransactionSession::open(SqliteConnection& writer) {
  writer_ = &writer;
  owner_.store(std::this_thread::get_id(), std::memory_order_release);
}

void TransactionSession::close() {
  owner_.store(std::thread::id(), std::memory_order_release);
}

Rows TransactionSession::query(std::string_view sql, const Params& params) {
  SqliteConnection& writer = checked();
  refuse_transaction_control(sql);
  return writer.query(sql, params);
}

std::int64_t TransactionSession::execute(std::string_view sql, const Params& params) {
  SqliteConnection& writer = checked();
  refuse_transaction_control(sql);
  return writer.execute(sql, params);
}

void TransactionSession::execute_script(std::string_view sql) {
  SqliteConnection& writer = checked();
  refuse_transaction_control_in_script(sql);
  writer.execute_script(sql);
}

SqliteConnection& TransactionSession::checked() const {
  const std::thread::id owner = owner_.load(std::memory_order_acquire);
  if (owner == std::this_thread::get_id()) return *writer_;
  if (owner == std::thread::id()) {
    throw DatabaseError("the transaction this Session belongs to has ended");
  }
  throw DatabaseError("a transaction Session must be used on the thread that opened it");
}

struct GroupCommit::Member {
  Member(const Body& b, bool c) : body(b), counted(c) {}
  const Body& body;
  bool counted = true;       // its writes move the write generation
  std::exception_ptr error;  // what the caller throws; set by the leader
  bool queued = false;       // in queue_, waiting for a batch
  bool done = false;         // the outcome is final
  std::condition_variable wake;
};

namespace {

using Member = GroupCommit::Member;
using Members = std::vector<std::shared_ptr<Member>>;

void fail_all(const Members& members, const std::exception_ptr& error) {
  for (const auto& member : members) member->error = copy_of(error);
}

// One body in a transaction of its own, exactly as without group commit.
void run_alone(SqliteConnection& writer, TransactionSession& session, Member& member) noexcept {
  member.error = nullptr;
  try {
    writer.execute("BEGIN IMMEDIATE", {});
    session.open(writer);
    try {
      member.body(session);
    } catch (...) {
      session.close();
      writer.rollback_quietly();
      throw;
    }
    session.close();
    if (!writer.in_transaction()) throw DatabaseError(kEndedEarly);
    try {
      writer.execute("COMMIT", {});
    } catch (...) {
      writer.rollback_quietly();  // e.g. a deferred foreign key violation keeps it open
      throw;
    }
  } catch (...) {
    member.error = std::current_exception();
  }
}

// One body of a batch, between SAVEPOINT and RELEASE. When the outcome is `lost`, the member's
// error is set if the body is at fault and left empty if it should run again.
Outcome run_in_savepoint(SqliteConnection& writer, TransactionSession& session,
                         Member& member) noexcept {
  try {
    writer.execute(kSavepoint, {});
  } catch (...) {
    return Outcome::lost;
  }
  session.open(writer);
  try {
    member.body(session);
  } catch (...) {
    session.close();
    member.error = std::current_exception();
    // SQLite rolls the whole transaction back after some errors (disk full, I/O, a trigger's
    // RAISE(ROLLBACK)): the earlier bodies' writes went with it.
    if (!writer.in_transaction()) return Outcome::lost;
    try {
      writer.execute(kRollbackTo, {});
      writer.execute(kRelease, {});
    } catch (...) {
      return Outcome::lost;
    }
    return Outcome::undone;
  }
  session.close();
  if (!writer.in_transaction()) {
    member.error = std::make_exception_ptr(DatabaseError(kEndedEarly));
    return Outcome::lost;
  }
  try {
    writer.execute(kRelease, {});
  } catch (...) {
    return Outcome::lost;
  }
  return Outcome::kept;
}

// Several bodies, one transaction. Returns with every member's outcome final.
void run_batch(SqliteConnection& writer, TransactionSession& session,
               const Members& batch) noexcept {
  try {
    writer.execute("BEGIN IMMEDIATE", {});
  } catch (...) {
    fail_all(batch, std::current_exception());
    return;
  }
  Members kept;  // bodies whose writes the open transaction holds
  kept.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Member& member = *batch[i];
    const Outcome outcome = run_in_savepoint(writer, session, member);
    if (outcome == Outcome::kept) kept.push_back(batch[i]);
    if (outcome != Outcome::lost) continue;
    // Nothing of this batch will commit. The body at fault keeps its error; the bodies before it
    // (whose writes were lost) and after it (not run yet) run alone, so that one body's failure
    // is never another's.
    writer.rollback_quietly();
    if (!member.error) kept.push_back(batch[i]);
    kept.insert(kept.end(), batch.begin() + static_cast<std::ptrdiff_t>(i) + 1, batch.end());
    for (const auto& again : kept) run_alone(writer, session, *again);
    return;
  }
  try {
    writer.execute("COMMIT", {});
  } catch (...) {
    const std::exception_ptr error = std::current_exception();
    writer.rollback_quietly();  // a deferred foreign key violation keeps the transaction open
    if (kept.size() > 1 && is_constraint_error(error)) {
      // A deferred constraint, checked only now: which body broke it is unknown, and alone each
      // gets its own answer.
      for (const auto& again : kept) run_alone(writer, session, *again);
    } else {
      fail_all(kept, error);  // the store's failure: nothing of the batch was committed
    }
  }
}

}  // namespace

GroupCommit::GroupCommit(WriterAccess access, std::size_t max_batch)
    : access_(std::move(access)), max_batch_(max_batch < 1 ? 1 : max_batch) {}

void GroupCommit::run(const Body& body, bool counted) {
  // Shared with the leader, which wakes this caller after releasing the lock and so may still be
  // notifying it when it returns.
  auto self = std::make_shared<Member>(body, counted);
  {
    std::unique_lock lock(mutex_);
    ++in_run_;
    if (leading_) {
      queue_.push_back(self);
      self->queued = true;
      // Run by a leader's batch, or woken to lead: the leader that finished asks the oldest
      // waiting caller to take over, unless a caller arriving meanwhile took over first (and
      // the waiting ones with it) — which spares a thread switch per batch.
      self->wake.wait(lock, [&] { return self->done || (self->queued && !leading_); });
      if (self->done) --in_run_;
    }
    if (!self->done) {
      leading_ = true;
      lead(self, lock);
    }
  }
  // Taken out of the Member, which the leader may free: the exception is then released on
  // this thread only.
  if (std::exception_ptr error = std::exchange(self->error, nullptr)) {
    std::rethrow_exception(error);
  }
}

std::size_t GroupCommit::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void GroupCommit::lead(const std::shared_ptr<Member>& self, std::unique_lock<std::mutex>& lock) {
  if (queue_.empty() && in_run_ > 1 && max_batch_ > 1) {
    // Callers of the last batch have been woken but not run yet: on a busy machine the leader
    // would otherwise go on alone while they wait for a CPU, batch after batch. Letting them run
    // first (to return, and often to come back with their next transaction) costs nothing when
    // a CPU is free.
    lock.unlock();
    std::this_thread::yield();
    lock.lock();
  }
  // A caller that did not wait: its own body first. Then the longest waiting, in order — a
  // leader woken from the queue is usually the oldest, and is taken in its turn.
  std::vector<std::shared_ptr<Member>> batch;
  if (!self->queued) batch.push_back(self);
  while (!queue_.empty() && batch.size() + (self->queued ? 1 : 0) < max_batch_) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
    batch.back()->queued = false;
  }
  if (self->queued) {  // further back than the limit (woken spuriously, not as the oldest)
    queue_.erase(std::find(queue_.begin(), queue_.end(), self));
    self->queued = false;
    batch.push_back(self);
  }
  lock.unlock();
  const bool counted = std::any_of(batch.begin(), batch.end(),
                                   [](const auto& member) { return member->counted; });
  try {
    access_([&](SqliteConnection& writer) {
      if (batch.size() == 1) {
        run_alone(writer, session_, *self);  // no savepoint: a lone caller pays what it used to
      } else {
        run_batch(writer, session_, batch);
      }
    }, counted);
  } catch (...) {
    fail_all(batch, std::current_exception());  // the writer could not be taken: no body ran
  }
  lock.lock();
  // Woken only now: the commit is done and the write generation has moved.
  for (const auto& member : batch) member->done = true;
  leading_ = false;
  --in_run_;
  const std::shared_ptr<Member> oldest = queue_.empty() ? nullptr : queue_.front();
  lock.unlock();
  // Outside the lock, so that a woken caller does not block on it at once.
  for (const auto& member : batch) {
    if (member != self) member->wake.notify_one();
  }
  if (oldest) oldest->wake.notify_one();
}

}  // namespace portico::storage::detail
