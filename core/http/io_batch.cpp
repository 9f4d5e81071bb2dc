#include "core/http/io_batch.hpp"

#include <boost/asio/io_context.hpp>

#include <liburing.h>
#include <sched.h>

#include "core/http/http_server.hpp"  // io_batching_refusal, io_counters
#include "core/http/readiness_read.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

namespace portico::http {
namespace {

// Submission entries per system call: a turn rarely has more ready connections than epoll hands
// the loop at once (128); a larger turn goes out in several calls.
constexpr unsigned kEntries = 256;
constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
constexpr int kNoResult = std::numeric_limits<int>::min();

std::atomic<std::uint64_t> send_batch_count{0};
std::atomic<std::uint64_t> read_batch_count{0};
std::atomic<std::uint64_t> batched_count{0};
std::atomic<std::uint64_t> batched_read_count{0};
std::atomic<std::uint64_t> before_poll_count{0};
std::atomic<std::uint64_t> yield_count{0};
std::atomic<bool> rings_refused{false};

int send_now(int fd, const msghdr& message) {
  const ssize_t n = ::sendmsg(fd, &message, kSendFlags);
  return n < 0 ? -errno : static_cast<int>(n);
}

int read_now(int fd, boost::asio::mutable_buffer buffer) {
  const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
  return n < 0 ? -errno : static_cast<int>(n);
}

using Scheduler = boost::asio::detail::scheduler;  // an io_context's queue of ready handlers
using Operation = Scheduler::operation;

#if PORTICO_READINESS_READ
// Asio's scheduler keeps a marker in its queue of ready handlers where it next polls epoll (the
// "task operation"): handlers queued while the loop runs go behind it. Its queue, its mutex and
// the marker are private; named here through an explicit instantiation, where access is not
// checked — Boost 1.81's layout, under the same guard as readiness_read.hpp's reactor internals.
boost::asio::detail::op_queue<Operation>& queue_of(Scheduler& scheduler);
boost::asio::detail::conditionally_enabled_mutex& mutex_of(Scheduler& scheduler);
Operation* poll_marker_of(Scheduler& scheduler);
template <auto Queue, auto Mutex, auto Marker>
struct ExposeScheduler {
  friend boost::asio::detail::op_queue<Operation>& queue_of(Scheduler& s) { return s.*Queue; }
  friend boost::asio::detail::conditionally_enabled_mutex& mutex_of(Scheduler& s) {
    return s.*Mutex;
  }
  friend Operation* poll_marker_of(Scheduler& s) { return &(s.*Marker); }
};
template struct ExposeScheduler<&Scheduler::op_queue_, &Scheduler::mutex_,
                                &Scheduler::task_operation_>;

// Puts `op` in the scheduler's queue just before the marker: after the handlers ready now, before
// the next poll. False, with nothing done, when the marker is not in the queue.
bool queue_before_poll(Scheduler& scheduler, Operation* op) {
  boost::asio::detail::conditionally_enabled_mutex::scoped_lock lock(mutex_of(scheduler));
  auto& queue = queue_of(scheduler);
  Operation* const marker = poll_marker_of(scheduler);
  boost::asio::detail::op_queue<Operation> ahead;
  while (!queue.empty() && queue.front() != marker) {
    Operation* o = queue.front();
    queue.pop();
    ahead.push(o);
  }
  const bool found = !queue.empty();
  if (found) {
    scheduler.work_started();  // as post does: the flush is work until it has run
    ahead.push(op);
  }
  ahead.push(queue);  // the marker and what is behind it, after what was ahead of it
  queue.push(ahead);
  return found;
}
#endif

}  // namespace

// The flush as a handler of the loop: one per batch, in the queue at most once (flush_posted_).
struct IoBatch::FlushOp final : Operation {
  explicit FlushOp(IoBatch& batch) : Operation(&complete), batch(batch) {}
  static void complete(void* owner, Operation* base, const boost::system::error_code&,
                       std::size_t) {
    // owner is null when the io_context is destroyed with the flush queued: nothing to run.
    if (owner != nullptr) static_cast<FlushOp*>(base)->batch.flush();
  }
  IoBatch& batch;
};

struct IoBatch::Ring {
  io_uring ring{};
  bool ready = false;  // io_uring_queue_init succeeded
  ~Ring() {
    if (ready) io_uring_queue_exit(&ring);
  }
};

IoBatch::IoBatch(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context),
      scheduler_(boost::asio::use_service<Scheduler>(context)),
      flush_op_(std::make_unique<FlushOp>(*this)) {}

IoBatch::~IoBatch() = default;

IoBatch& IoBatch::of(boost::asio::io_context& context) {
  return boost::asio::use_service<IoBatch>(static_cast<boost::asio::execution_context&>(context));
}

std::uint64_t IoBatch::send_batches() {
  return send_batch_count.load();
}
std::uint64_t IoBatch::read_batches() {
  return read_batch_count.load();
}
std::uint64_t IoBatch::batched_sends() {
  return batched_count.load();
}
std::uint64_t IoBatch::batched_reads() {
  return batched_read_count.load();
}
std::uint64_t IoBatch::flushes_before_poll() {
  return before_poll_count.load();
}
std::uint64_t IoBatch::yields() {
  return yield_count.load();
}
void IoBatch::refuse_rings(bool refuse) {
  rings_refused.store(refuse);
}

IoCounters io_counters() {
  return {IoBatch::read_batches(), IoBatch::batched_reads(), IoBatch::send_batches(),
          IoBatch::batched_sends(), IoBatch::yields()};
}

std::string io_batching_refusal() {
  io_uring ring{};
  const int result = io_uring_queue_init(8, &ring, 0);
  if (result < 0) return std::string("io_uring_queue_init: ") + std::strerror(-result);
  io_uring_queue_exit(&ring);
  return {};
}

IoBatch::Seat IoBatch::join(std::size_t yield_below) {
  yield_below_.store(yield_below, std::memory_order_relaxed);
  connections_->fetch_add(1, std::memory_order_relaxed);
  return Seat(connections_);
}

void IoBatch::add(std::shared_ptr<BatchedSend> send) {
  queued_.push_back(std::move(send));
  post_flush();
}

void IoBatch::add_read(ReadinessRead* read) {
  reads_queued_.push_back(read);
  post_flush();
}

void IoBatch::post_flush() {
  if (flush_posted_ || flushing_) return;
  flush_posted_ = true;
  // Behind the handlers already queued — the ones of this turn's ready connections — and before
  // the loop polls epoll again: their reads and answers go out first. From another thread (the
  // tests'), or where the poll marker cannot be found: behind everything queued, as post does.
#if PORTICO_READINESS_READ
  if (scheduler_.can_dispatch() && queue_before_poll(scheduler_, flush_op_.get())) {
    before_poll_count.fetch_add(1, std::memory_order_relaxed);
    return;
  }
#endif
  scheduler_.post_immediate_completion(flush_op_.get(), /*is_continuation=*/false);
}

// The io_context is going away with the flush not run: the connections are let go of unsent and
// unread (their reads without a call), as every other handler that holds one is.
void IoBatch::shutdown() {
  queued_.clear();
  sending_.clear();
  std::vector<ReadinessRead*> reads;
  reads.swap(reads_queued_);
  for (ReadinessRead* read : reads) read->batched_read_abandoned();
}

void IoBatch::flush() {
  flush_posted_ = false;
  flushing_ = true;
  // The reads, then at once the responses their requests were answered with: two system calls
  // with no trip round the loop between them. What the second round's completions queue waits
  // for the next flush.
  int rounds = 0;
  for (; rounds < 2 && (!queued_.empty() || !reads_queued_.empty()); ++rounds) run_round();
  flushing_ = false;
  if (!queued_.empty() || !reads_queued_.empty()) post_flush();
  // The turn is over: with few connections, the threads it woke run now (see join). A no-op
  // when none waits for this core.
  const std::size_t yield_below = yield_below_.load(std::memory_order_relaxed);
  if (rounds > 0 && connections_->load(std::memory_order_relaxed) < yield_below) {
    yield_count.fetch_add(1, std::memory_order_relaxed);
    sched_yield();
  }
}

void IoBatch::run_round() {
  // What their completions queue goes in the next round, or the next flush.
  sending_.swap(queued_);
  reading_.swap(reads_queued_);
  const std::size_t sends = sending_.size();
  const std::size_t count = sends + reading_.size();
  results_.assign(count, kNoResult);
  if (!tried_ring_) {
    tried_ring_ = true;
    auto ring = std::make_unique<Ring>();
    if (!rings_refused.load() && io_uring_queue_init(kEntries, &ring->ring, 0) == 0) {
      ring->ready = true;
      ring_ = std::move(ring);
    }
  }
  std::size_t done = 0;
  if (ring_) {
    while (done < count) {
      const std::size_t last = std::min(count, done + kEntries);
      if (!through_ring(done, last)) {
        ring_.reset();
        break;
      }
      done = last;
    }
  }
  // Without the ring, or after it failed: one system call each.
  for (std::size_t i = done; i < count; ++i) {
    if (results_[i] != kNoResult) continue;  // answered by the ring before it failed
    const int fd = socket_of(i);
    if (fd < 0) {
      results_[i] = -ECANCELED;
    } else {
      results_[i] = i < sends ? send_now(fd, sending_[i]->batched_message())
                              : read_now(fd, reading_[i - sends]->batched_read_buffer());
    }
  }
  // The sends first: a connection whose response went out goes on to its next read.
  for (std::size_t i = 0; i < sends; ++i) sending_[i]->batched_sent(results_[i]);
  sending_.clear();
  for (std::size_t i = sends; i < count; ++i) reading_[i - sends]->batched_read(results_[i]);
  reading_.clear();
}

int IoBatch::socket_of(std::size_t entry) const {
  const std::size_t sends = sending_.size();
  return entry < sends ? sending_[entry]->batched_socket()
                       : reading_[entry - sends]->batched_read_socket();
}

bool IoBatch::through_ring(std::size_t first, std::size_t last) {
  io_uring* ring = &ring_->ring;
  const std::size_t sends = sending_.size();
  unsigned prepared = 0;
  unsigned reads = 0;
  for (std::size_t i = first; i < last; ++i) {
    ReadinessRead* read = i < sends ? nullptr : reading_[i - sends];
    const int fd = socket_of(i);
    if (fd < 0) {
      results_[i] = -ECANCELED;
      continue;
    }
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (sqe == nullptr) return false;  // not expected: every entry is reaped before the next
    if (read) {
      const boost::asio::mutable_buffer buffer = read->batched_read_buffer();
      io_uring_prep_recv(sqe, fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      ++reads;
    } else {
      io_uring_prep_sendmsg(sqe, fd, &sending_[i]->batched_message(), kSendFlags);
    }
    io_uring_sqe_set_data64(sqe, i);
    ++prepared;
  }
  // The sends and reads are non-blocking: the kernel runs each while submitting it, and the call
  // returns with every completion posted. The loop is for what should not happen (a signal, an
  // entry submitted late); a ring that errs otherwise is given up and the rest sent without it.
  unsigned received = 0;
  int attempts = 0;
  while (received < prepared) {
    const int submitted = io_uring_submit_and_wait(ring, 1);
    if (submitted < 0 && submitted != -EINTR && submitted != -EAGAIN) break;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(ring, head, cqe) {
      const std::size_t i = static_cast<std::size_t>(io_uring_cqe_get_data64(cqe));
      if (i >= first && i < last) results_[i] = cqe->res;
      ++seen;
    }
    io_uring_cq_advance(ring, seen);
    received += seen;
    if (++attempts > 1000) break;
  }
  if (received < prepared) {
    // Sends and reads whose fate is unknown: their connections are closed (the ring is torn down
    // with anything of it still pending).
    for (std::size_t i = first; i < last; ++i) {
      if (results_[i] == kNoResult) results_[i] = -EIO;
    }
    return false;
  }
  if (reads > 0) {  // counted before the reads complete: before their answers can be seen
    read_batch_count.fetch_add(1);
    batched_read_count.fetch_add(reads);
  }
  if (prepared > reads) {
    send_batch_count.fetch_add(1);  // before the responses' count: see io_batch_test.cpp
    batched_count.fetch_add(prepared - reads);
  }
  return true;
}

}  // namespace portico::http
