// The core's worker pool (server.workers threads): where route handlers run unless they say
// otherwise (Route::run_on), and where plugins post blocking work (Host::workers()). I/O threads
// never wait on the store, a lock or a plugin: they hand the request here and go on serving.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "portico/async.hpp"

namespace portico::pipeline {

class WorkerPool final : public Executor {
 public:
  // Starts `threads` workers (at least 1). `on_error` is told about a task that threw.
  explicit WorkerPool(std::size_t threads,
                      std::function<void(std::string_view)> on_error = nullptr);
  // Drains: runs every task already posted, then joins.
  ~WorkerPool() override;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. Thread-safe; never runs it on the caller and never blocks. After shutdown()
  // began the task still runs (on the thread that drains), so nothing posted is ever lost.
  void post(std::function<void()> task) override;

  // Runs what is queued, then stops the workers and joins them. Idempotent.
  void shutdown();

  std::size_t threads() const { return threads_.size(); }
  std::size_t queued() const;  // tasks waiting for a worker
  std::size_t busy() const;    // tasks running now

  // The default for server.workers: 16 per core, at least 32. Workers mostly wait (on the store,
  // the disk), and a transaction blocks its worker until its batch commits, so the pool bounds
  // how many transactions share a commit: 8 workers gave batches of 4.6 and 3,000 orders/s,
  // 32 gave 14 and 3,750 (tests/bench (d), docs/performance.md).
  static std::size_t default_size();

 private:
  void work();

  // The queue: a ring over slots that only grow (doubling), so a steady trickle of tasks — the
  // gateway's timers post several a second, idle or not — allocates nothing once warm (a deque
  // takes a new block every 16 and frees the old one).
  class TaskRing {
   public:
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    void push(std::function<void()>&& task);
    std::function<void()> pop();  // the oldest; the ring must not be empty

   private:
    std::vector<std::function<void()>> slots_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
  };

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  TaskRing tasks_;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::function<void(std::string_view)> on_error_;
  std::vector<std::thread> threads_;
};

}  // namespace portico::pipeline
