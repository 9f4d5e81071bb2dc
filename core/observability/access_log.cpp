// The access log (access_log.hpp): lanes of pending lines, the writer thread, the block pool.
#include "core/observability/access_log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/observability/daily_file_sink.hpp"
#include "portico/sdk/thread_name.hpp"

namespace portico::observability {
namespace {

// Written blocks the pool keeps once load is back to normal: a typical batch (100 ms of lines) fits
// many times over, and a burst that filled 16 MiB does not pin that for the life of the process.
constexpr std::size_t kKeptBytes = std::size_t{4} << 20;
// Batches below a lane's peak before the pool it keeps shrinks by a block: ~5 s of batches at the
// writer's 100 ms period, less under a load that wakes it sooner.
constexpr std::size_t kPeakDecay = 50;

}  // namespace

AccessLog::AccessLog(const std::filesystem::path& dir, std::size_t max_pending_bytes)
    : file_(std::make_unique<DailyFile>(dir, "access", ".jsonl")),
      lane_bytes_(std::max<std::size_t>(max_pending_bytes / kLanes, 1)) {
  writer_ = std::thread([this] {
    sdk::name_this_thread("access-log");
    run();
  });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(control_mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  for (Lane& lane : lanes_) {
    std::lock_guard lock(lane.mutex);  // a writer between its check and its wait sees stopping_
    lane.room.notify_all();
  }
  writer_.join();
  drain();  // anything written after the writer's last batch
}

std::size_t AccessLog::this_threads_lane() {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t lane = next.fetch_add(1, std::memory_order_relaxed) % kLanes;
  return lane;
}

void AccessLog::write(const AccessRecord& record) {
  // Formatted before taking the lock, into this thread's buffer, made at its first line for the
  // longest line there can be: no line allocates after that.
  const std::string_view line = access_line(record);
  auto day = std::chrono::floor<std::chrono::days>(record.time);
  Lane& lane = lanes_[this_threads_lane()];
  std::unique_lock lock(lane.mutex);
  Batch& pending = lane.pending;
  if (pending.size >= lane_bytes_ / 2 && !wake_requested_.load(std::memory_order_relaxed) &&
      !wake_requested_.exchange(true)) {
    wake_writer_.notify_one();
  }
  if (pending.size >= lane_bytes_) {
    lane.room.wait(lock, [&] { return pending.size < lane_bytes_ || stopping_.load(); });
  }
  if (pending.days.empty() || pending.days.back().day != day) {
    pending.days.push_back({day, pending.size});
  }
  for (std::string_view rest = line; !rest.empty();) {
    if (pending.size == pending.blocks.size() * kBlockSize) {
      if (lane.free_blocks.empty()) {
        pending.blocks.push_back(Block(new char[kBlockSize]));  // uninitialised: no page touched
        blocks_made_.fetch_add(1, std::memory_order_relaxed);
      } else {
        pending.blocks.push_back(std::move(lane.free_blocks.back()));
        lane.free_blocks.pop_back();
      }
    }
    std::size_t at = pending.size % kBlockSize;
    std::size_t n = std::min(rest.size(), kBlockSize - at);
    std::memcpy(pending.blocks.back().get() + at, rest.data(), n);
    pending.size += n;
    rest.remove_prefix(n);
  }
}

void AccessLog::flush() {
  drain();
}

void AccessLog::run() {
  std::unique_lock lock(control_mutex_);
  while (!stopping_) {
    wake_writer_.wait_for(lock, std::chrono::milliseconds(100),
                          [this] { return stopping_.load() || wake_requested_.load(); });
    wake_requested_ = false;
    lock.unlock();
    drain();
    lock.lock();
  }
}

void AccessLog::drain() {
  constexpr std::size_t kMinKeptBlocks = kKeptBytes / kLanes / kBlockSize;  // a lane's share
  std::lock_guard writing(write_mutex_);
  for (Lane& lane : lanes_) {
    bool written = false;
    {
      // spare_ is empty; its vectors keep the capacity of an earlier batch, so the lane's threads
      // append to it without growing them.
      std::lock_guard lock(lane.mutex);
      if (lane.pending.size == 0 && lane.free_blocks.size() <= kMinKeptBlocks) continue;
      if (lane.pending.size > 0) {
        std::swap(lane.pending.size, spare_.size);
        lane.pending.blocks.swap(spare_.blocks);
        lane.pending.days.swap(spare_.days);
        written = true;
      }
    }
    Batch& batch = spare_;  // empty when the lane had nothing: then only its pool may shrink
    if (written) {
      lane.room.notify_all();
      write_batch(batch);
    }
    // Back to the lane's pool: enough for two of the largest batches of late — the one filling
    // while another is written — so a steady load takes no new block however its batches vary
    // (fresh pages for every batch would cost more than the formatting, and a pool sized to the
    // last batch alone gave a block back and took a new one whenever a batch outgrew the one
    // before). At most the lane's share of the pending bytes; down to kMinKeptBlocks after a
    // burst or when idle, one block for every kPeakDecay batches (or idle periods) below the
    // peak. What the pool does not keep is freed outside the lock.
    if (batch.blocks.size() >= lane.peak_blocks) {
      lane.peak_blocks = batch.blocks.size();
      lane.batches_below_peak = 0;
    } else if (++lane.batches_below_peak >= kPeakDecay) {
      --lane.peak_blocks;
      lane.batches_below_peak = 0;
    }
    const std::size_t keep =
        std::max(kMinKeptBlocks, std::min(2 * lane.peak_blocks, lane_bytes_ / kBlockSize + 1));
    {
      std::lock_guard lock(lane.mutex);
      while (!batch.blocks.empty() && lane.free_blocks.size() < keep) {
        lane.free_blocks.push_back(std::move(batch.blocks.back()));
        batch.blocks.pop_back();
      }
      while (lane.free_blocks.size() > keep) {
        batch.blocks.push_back(std::move(lane.free_blocks.back()));
        lane.free_blocks.pop_back();
      }
    }
    batch.blocks.clear();
    batch.size = 0;
    batch.days.clear();
  }
}

void AccessLog::write_batch(const Batch& batch) {
  // Each run of one day's lines (a single run except around midnight) goes to the file a block at
  // a time, where spdlog's sink took a call, and formatted a copy, per line.
  std::size_t written = 0;
  try {
    for (std::size_t k = 0; k < batch.days.size(); ++k) {
      std::size_t end = k + 1 < batch.days.size() ? batch.days[k + 1].offset : batch.size;
      while (written < end) {
        std::size_t at = written % kBlockSize;
        std::size_t n = std::min(end - written, kBlockSize - at);
        file_->write(batch.days[k].day,
                     std::string_view(batch.blocks[written / kBlockSize].get() + at, n));
        written += n;
      }
    }
    file_->flush();
  } catch (const std::exception& e) {
    std::size_t lost = 0;
    for (std::size_t i = written; i < batch.size; ++i) {
      lost += batch.blocks[i / kBlockSize][i % kBlockSize] == '\n';
    }
    spdlog::error("access log: {} line(s) not written: {}", lost, e.what());
  }
}

}  // namespace portico::observability
