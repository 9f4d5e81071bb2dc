// The access log: one JSON line per partner request in `<logging.dir>/access-YYYY-MM-DD.jsonl`,
// formatted on the request thread (access_line.hpp) and appended to a batch under a short lock; a
// writer thread of its own takes the whole batch every 100 ms and writes it. No request wakes a
// thread (spdlog's async logger signalled its worker once per line: the largest single cost of a
// cached product read), and a full batch (16 MiB) makes request threads wait for the writer rather
// than lose lines. In steady state a line costs no heap allocation: it is formatted into a buffer
// of the request thread's own and copied into fixed-size blocks that the writer hands back once
// written, and each day's run of lines reaches the file in a few large writes. It holds ids, never
// credentials: key_id is the key's id, and key-shaped text a client puts in the path or User-Agent
// is redacted.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/observability/access_line.hpp"

namespace portico::observability {

class DailyFile;

class AccessLog {
 public:
  // Creates `dir` and opens today's file (throws std::runtime_error naming it when it cannot).
  // Beyond `max_pending_bytes` waiting for the writer (split evenly over the lanes below), request
  // threads wait for it.
  explicit AccessLog(const std::filesystem::path& dir,
                     std::size_t max_pending_bytes = std::size_t{16} << 20);
  ~AccessLog();  // writes what is pending, then closes the file
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(const AccessRecord& record);
  // Writes every line written so far to the file and flushes it, before returning.
  void flush();
  // Blocks of pending lines taken from the heap since construction; a steady load reuses written
  // ones and takes none (tested).
  std::size_t blocks_made() const { return blocks_made_.load(std::memory_order_relaxed); }

 private:
  // Fixed-size blocks rather than one growing string: a batch never copies what it holds to grow,
  // and blocks go back to a pool once written, so a busy log reuses memory that is already mapped.
  static constexpr std::size_t kBlockSize = std::size_t{64} << 10;
  using Block = std::unique_ptr<char[]>;
  // Lines in the order written, each ending in '\n', as one stream of bytes cut into blocks (a line
  // may span two), and where each run of one UTC day's lines begins: the day picks the file, and
  // `days` grows only when the day changes (around midnight).
  struct Batch {
    struct DayStart {
      std::chrono::sys_days day;
      std::size_t offset;  // into the stream
    };
    std::vector<Block> blocks;  // byte i of the stream is blocks[i / kBlockSize][i % kBlockSize]
    std::size_t size = 0;
    std::vector<DayStart> days;
  };
  // Lines wait in lanes: a writing thread keeps to one (threads beyond kLanes share them,
  // round-robin), with its own lock, batch and written blocks on cache lines of its own, so the I/O
  // threads never meet on a lock or write next to each other. A thread's lines reach the file in
  // the order it wrote them; the writer takes the lanes one after another.
  static constexpr std::size_t kLanes = 8;
  struct alignas(64) Lane {
    std::mutex mutex;
    std::condition_variable room;    // a full lane's writers wait here for the writer
    Batch pending;                   // under mutex
    std::vector<Block> free_blocks;  // under mutex: written blocks, for pending to take
    // The writer's alone: the largest batch of late (in blocks), and how many batches since.
    std::size_t peak_blocks = 0;
    std::size_t batches_below_peak = 0;
  };
  static std::size_t this_threads_lane();

  void run();
  // Takes each lane's pending batch and writes it (the caller holds no lock).
  void drain();
  void write_batch(const Batch& batch);  // under write_mutex_

  std::unique_ptr<DailyFile> file_;  // written under write_mutex_
  const std::size_t lane_bytes_;     // a lane's share of max_pending_bytes
  std::mutex control_mutex_;         // the writer's sleep
  std::condition_variable wake_writer_;
  std::atomic<bool> wake_requested_{false};  // a lane is half full: write before the period ends
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> blocks_made_{0};
  std::array<Lane, kLanes> lanes_;
  std::mutex write_mutex_;  // one batch reaches the file at a time, in order
  Batch spare_;             // under write_mutex_: the batch being written, then a lane's pending
  std::thread writer_;
};

}  // namespace portico::observability
