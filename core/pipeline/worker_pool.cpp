#include "core/pipeline/worker_pool.hpp"

#include <algorithm>
#include <exception>
#include <string>

#include "portico/sdk/thread_name.hpp"

namespace portico::pipeline {

WorkerPool::WorkerPool(std::size_t threads, std::function<void(std::string_view)> on_error)
    : on_error_(std::move(on_error)) {
  threads = std::max<std::size_t>(threads, 1);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i] {
      sdk::name_this_thread("worker-" + std::to_string(i));
      work();
    });
  }
}

WorkerPool::~WorkerPool() {
  shutdown();
}

void WorkerPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ || !threads_.empty()) {
      tasks_.push_back(std::move(task));
      wake_.notify_one();
      return;
    }
  }
  // The pool is gone: run it here rather than lose it (only during process teardown).
  try {
    task();
  } catch (...) {
  }
}

void WorkerPool::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    if (!thread.joinable()) continue;
    // Called from a task: that worker finishes the task and leaves by itself.
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();
    } else {
      thread.join();
    }
  }
  // Posted while the last workers were leaving: run here, nothing is lost.
  std::deque<std::function<void()>> left;
  {
    std::lock_guard lock(mutex_);
    threads_.clear();
    left.swap(tasks_);
  }
  for (auto& task : left) {
    try {
      task();
    } catch (...) {
    }
  }
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

std::size_t WorkerPool::busy() const {
  std::lock_guard lock(mutex_);
  return busy_;
}

std::size_t WorkerPool::default_size() {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max<std::size_t>(32, cores * 16);
}

void WorkerPool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, and everything posted has run
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    ++busy_;
    lock.unlock();
    try {
      task();
    } catch (const std::exception& error) {
      if (on_error_) on_error_(std::string("a worker task failed: ") + error.what());
    } catch (...) {
      if (on_error_) on_error_("a worker task failed with a non-standard exception");
    }
    task = nullptr;  // destroyed outside the lock: it may post again
    lock.lock();
    --busy_;
  }
}

}  // namespace portico::pipeline
