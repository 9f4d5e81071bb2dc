// Periodic: work the gateway runs on its worker pool every so often, for the life of the process
// (the flushes of batched state, the key directory's refresh). Internal to core/app.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <utility>

#include "portico/async.hpp"

namespace portico::app {

// Runs `work` on `workers` every `interval`, timed on `loop`, until the loop stops. On a worker:
// the work talks to the store (a round trip to PostgreSQL), which no I/O loop may wait for. A
// tick that comes while the last turn still runs is skipped, so turns never overlap. A tick
// allocates nothing (it runs for the life of the process, idle or not): the timer's wait reuses
// the loop's handler memory, and the task posted holds one pointer, which std::function keeps in
// place.
class Periodic {
 public:
  Periodic(boost::asio::io_context& loop, boost::asio::steady_timer::duration interval,
           Executor& workers, std::function<void()> work)
      : timer_(loop), interval_(interval), workers_(workers), work_(std::move(work)) {
    arm();
  }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

 private:
  void arm() {
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      if (!running_.exchange(true, std::memory_order_acq_rel)) workers_.post([this] { turn(); });
      arm();
    });
  }
  void turn() {
    struct Done {
      std::atomic<bool>& running;
      ~Done() { running.store(false, std::memory_order_release); }
    } done{running_};
    work_();
  }

  boost::asio::steady_timer timer_;
  const boost::asio::steady_timer::duration interval_;
  Executor& workers_;
  const std::function<void()> work_;
  std::atomic<bool> running_{false};
};

}  // namespace portico::app
