#include "core/pipeline/worker_pool.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

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
      tasks_.push(std::move(task));
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
  TaskRing left;
  {
    std::lock_guard lock(mutex_);
    threads_.clear();
    std::swap(left, tasks_);
  }
  while (!left.empty()) {
    try {
      left.pop()();
    } catch (...) {
    }
  }
}

void WorkerPool::TaskRing::push(std::function<void()>&& task) {
  if (count_ == slots_.size()) {
    std::vector<std::function<void()>> grown(std::max<std::size_t>(16, slots_.size() * 2));
    for (std::size_t i = 0; i < count_; ++i) {
      grown[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    }
    slots_ = std::move(grown);
    head_ = 0;
  }
  slots_[(head_ + count_) % slots_.size()] = std::move(task);
  ++count_;
}

std::function<void()> WorkerPool::TaskRing::pop() {
  std::function<void()> task = std::move(slots_[head_]);
  slots_[head_] = nullptr;  // what the task captured goes with it, not with the slot
  head_ = (head_ + 1) % slots_.size();
  --count_;
  return task;
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
    auto task = tasks_.pop();
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
