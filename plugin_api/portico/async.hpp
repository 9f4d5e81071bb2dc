// Asynchronous completion (plugin API 2.0): how a handler, an authentication scheme or a
// rate-limit policy answers later, from any thread, without the core's I/O types. Plain C++.
//
//   Completion<T>  the answer to one call. Call it exactly once, with the value or (fail) an
//                  exception, from any thread; later calls are ignored. A completion dropped
//                  without an answer answers itself with an error, so a forgotten reply is a 500
//                  naming the bug, never a request that hangs.
//   cancelled()    the core no longer wants the answer: the client disconnected or
//                  server.handler_timeout passed (the client got 504). Stop early if you can;
//                  an answer given anyway is dropped. on_cancel() runs a callback at that moment.
//   Executor       the core's worker pool (Host::workers()): blocking work goes there, never on
//                  the thread that called you.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace portico {

// Shared by everything working on one request: set once, by the core, when the answer is no
// longer wanted. Thread-safe.
class CancelState {
 public:
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

  // Runs `callback` once the request is cancelled — at once, on this thread, if it already is;
  // otherwise on the thread that cancels it. Keep it short and non-blocking.
  void on_cancel(std::function<void()> callback) {
    {
      std::lock_guard lock(mutex_);
      if (!cancelled()) {
        callbacks_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }

  // For the core: marks the request cancelled and runs the callbacks. Idempotent.
  void cancel() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex_);
      if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
      callbacks.swap(callbacks_);
    }
    for (auto& callback : callbacks) {
      try {
        callback();
      } catch (...) {
        // A plugin's cancel callback must not take the connection's thread down.
      }
    }
  }

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::vector<std::function<void()>> callbacks_;
};

// The answer to one asynchronous call. Copyable (copies share the answer); thread-safe.
template <class T>
class Completion {
 public:
  // For the core: the callable given to the constructor receives the value, or a default T and
  // the exception, exactly once.

  Completion() = default;
  // `deliver` is any callable taking (T&&, std::exception_ptr); it lives in the completion's one
  // allocation.
  template <class F>
  Completion(F deliver, std::shared_ptr<CancelState> cancel)
      : state_(std::make_shared<Holder<F>>(std::move(deliver), std::move(cancel))) {}
  // Since API 2.0 (header only): the same with the state allocated by `alloc` — the core keeps a
  // request's completions in the request's own memory.
  template <class F, class Alloc>
  Completion(std::allocator_arg_t, const Alloc& alloc, F deliver, std::shared_ptr<CancelState> cancel)
      : state_(std::allocate_shared<Holder<F>>(alloc, std::move(deliver), std::move(cancel))) {}

  // Answers with `value`. Only the first answer counts.
  void operator()(T value) const { settle(std::move(value), nullptr); }
  // Answers with an error: a ProblemError is rendered as its problem, anything else as a 500.
  void fail(std::exception_ptr error) const { settle(T{}, std::move(error)); }
  // Answers with what `work` returns, or with what it throws.
  template <class Work>
  void run(Work&& work) const {
    // Built from what `work` returns, never default-constructed first (a Response's default
    // content type alone is an allocation).
    std::optional<T> value;
    try {
      value.emplace(std::forward<Work>(work)());
    } catch (...) {
      return fail(std::current_exception());
    }
    (*this)(std::move(*value));
  }

  bool cancelled() const noexcept { return state_ && state_->cancel && state_->cancel->cancelled(); }
  void on_cancel(std::function<void()> callback) const {
    if (state_ && state_->cancel) state_->cancel->on_cancel(std::move(callback));
  }
  // Whether this completion still waits for its answer.
  bool pending() const noexcept { return state_ && !state_->settled.load(); }
  explicit operator bool() const noexcept { return static_cast<bool>(state_); }

 private:
  struct State {
    explicit State(std::shared_ptr<CancelState> c) : cancel(std::move(c)) {}
    virtual ~State() = default;
    virtual void deliver(T&& value, std::exception_ptr error) = 0;
    std::shared_ptr<CancelState> cancel;
    std::atomic<bool> settled{false};
  };
  template <class F>
  struct Holder final : State {
    Holder(F f, std::shared_ptr<CancelState> c) : State(std::move(c)), function(std::move(f)) {}
    ~Holder() override {
      if (this->settled.exchange(true)) return;
      try {
        function(T{}, std::make_exception_ptr(
                          std::logic_error("the plugin dropped its completion without answering")));
      } catch (...) {
      }
    }
    void deliver(T&& value, std::exception_ptr error) override {
      // Moved out first: what the callable holds is released once it ran, not with the state.
      F once = std::move(function);
      once(std::move(value), std::move(error));
    }
    F function;
  };

  void settle(T&& value, std::exception_ptr error) const {
    if (!state_ || state_->settled.exchange(true)) return;
    state_->deliver(std::move(value), std::move(error));
  }

  std::shared_ptr<State> state_;
};

// Where blocking work runs: the core's worker pool (server.workers threads). post() never runs
// the task on the calling thread and never blocks; tasks run in roughly the order posted. A task
// that throws is logged and forgotten: answer your Completion inside it (Completion::run does).
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void post(std::function<void()> task) = 0;
};

}  // namespace portico
