// app::Periodic: the work runs on the workers, again and again, and a turn never starts while the
// last one is still running — a tick that comes meanwhile is skipped, not queued behind it.
#include "core/app/periodic.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/pipeline/worker_pool.hpp"

namespace portico::app {
namespace {

using namespace std::chrono_literals;

TEST(Periodic, RunsOnTheWorkersAndNeverOverlapsAnotherTurn) {
  boost::asio::io_context loop(1);
  pipeline::WorkerPool workers(4);
  std::atomic<int> running{0}, overlapped{0}, turns{0};
  std::atomic<bool> on_loop_thread{false};
  std::atomic<std::thread::id> loop_thread{};
  {
    // Ticks every 2 ms, turns of 20 ms: about nine ticks of ten come while a turn runs.
    Periodic periodic(loop, 2ms, workers, [&] {
      if (std::this_thread::get_id() == loop_thread) on_loop_thread = true;
      if (running.fetch_add(1) != 0) overlapped++;
      std::this_thread::sleep_for(20ms);
      running.fetch_sub(1);
      turns++;
    });
    std::thread runner([&] {
      loop_thread = std::this_thread::get_id();
      loop.run_for(300ms);
    });
    runner.join();
    workers.shutdown();  // a turn still running ends before the Periodic goes
  }
  EXPECT_EQ(overlapped.load(), 0);
  EXPECT_FALSE(on_loop_thread.load());
  EXPECT_GE(turns.load(), 5);
  EXPECT_LE(turns.load(), 16) << "skipped ticks are not queued: at most one turn per 20 ms";
}

}  // namespace
}  // namespace portico::app
