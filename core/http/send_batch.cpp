#include "core/http/send_batch.hpp"

#include <boost/asio/post.hpp>

#include <liburing.h>

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

std::atomic<std::uint64_t> batch_count{0};
std::atomic<std::uint64_t> batched_count{0};
std::atomic<bool> rings_refused{false};

int send_now(int fd, const msghdr& message) {
  const ssize_t n = ::sendmsg(fd, &message, kSendFlags);
  return n < 0 ? -errno : static_cast<int>(n);
}

}  // namespace

struct SendBatch::Ring {
  io_uring ring{};
  bool ready = false;  // io_uring_queue_init succeeded
  ~Ring() {
    if (ready) io_uring_queue_exit(&ring);
  }
};

SendBatch::SendBatch(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context),
      context_(static_cast<boost::asio::io_context&>(context)) {}

SendBatch::~SendBatch() = default;

SendBatch& SendBatch::of(boost::asio::io_context& context) {
  return boost::asio::use_service<SendBatch>(static_cast<boost::asio::execution_context&>(context));
}

std::uint64_t SendBatch::batches() {
  return batch_count.load();
}
std::uint64_t SendBatch::batched_sends() {
  return batched_count.load();
}
void SendBatch::refuse_rings(bool refuse) {
  rings_refused.store(refuse);
}

std::string send_batching_refusal() {
  io_uring ring{};
  const int result = io_uring_queue_init(8, &ring, 0);
  if (result < 0) return std::string("io_uring_queue_init: ") + std::strerror(-result);
  io_uring_queue_exit(&ring);
  return {};
}

void SendBatch::add(std::shared_ptr<BatchedSend> send) {
  queued_.push_back(std::move(send));
  if (flush_posted_) return;
  flush_posted_ = true;
  // Behind the handlers already queued: the ones of this turn's ready connections.
  boost::asio::post(context_, [this] { flush(); });
}

// The io_context is going away with the flush not run: the connections are let go of unsent, as
// every other handler that holds one is.
void SendBatch::shutdown() {
  queued_.clear();
  sending_.clear();
}

void SendBatch::flush() {
  flush_posted_ = false;
  sending_.swap(queued_);  // sends queued while these complete wait for the next flush
  const std::size_t count = sending_.size();
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
      if (!send_through_ring(done, last)) {
        ring_.reset();
        break;
      }
      done = last;
    }
  }
  // Without the ring, or after it failed: one sendmsg each.
  for (std::size_t i = done; i < count; ++i) {
    if (results_[i] != kNoResult) continue;  // answered by the ring before it failed
    const int fd = sending_[i]->batched_socket();
    results_[i] = fd < 0 ? -ECANCELED : send_now(fd, sending_[i]->batched_message());
  }
  for (std::size_t i = 0; i < count; ++i) sending_[i]->batched_sent(results_[i]);
  sending_.clear();
}

bool SendBatch::send_through_ring(std::size_t first, std::size_t last) {
  io_uring* ring = &ring_->ring;
  unsigned prepared = 0;
  for (std::size_t i = first; i < last; ++i) {
    const int fd = sending_[i]->batched_socket();
    if (fd < 0) {
      results_[i] = -ECANCELED;
      continue;
    }
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (sqe == nullptr) return false;  // not expected: every entry is reaped before the next
    io_uring_prep_sendmsg(sqe, fd, &sending_[i]->batched_message(), kSendFlags);
    io_uring_sqe_set_data64(sqe, i);
    ++prepared;
  }
  // The sends are non-blocking: the kernel runs each while submitting it, and the call returns
  // with every completion posted. The loop is for what should not happen (a signal, an entry
  // submitted late); a ring that errs otherwise is given up and the rest sent without it.
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
    // Sends whose fate is unknown: their connections are closed (the ring is torn down with
    // anything of it still pending).
    for (std::size_t i = first; i < last; ++i) {
      if (results_[i] == kNoResult) results_[i] = -EIO;
    }
    return false;
  }
  batch_count.fetch_add(1);  // before the responses' count: see send_batch_test.cpp
  batched_count.fetch_add(prepared);
  return true;
}

}  // namespace portico::http
