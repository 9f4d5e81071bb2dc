// The reads and the sends one I/O loop makes in a turn, in one system call each — internal to
// core/http: only session.hpp and readiness_read.cpp include it.
//
// On this kind of host a system call's entry and exit cost about a microsecond (page-table
// isolation, retpolines, a virtual machine): a keep-alive request took two of them, the read and
// the write — as many as nginx's. Here a loop's turn takes two in all, however many connections
// epoll reported ready together:
//   - a connection whose socket epoll reports readable queues its read here (ReadinessRead with
//     read_through) instead of calling recv;
//   - the flush — queued once a turn, after the handlers ready now and before the loop polls epoll
//     again — reads every queued socket in one io_uring_enter, each a non-blocking recv the kernel
//     runs inline, and completes each read: its requests are parsed and answered;
//   - a connection whose response is ready queues it here instead of calling sendmsg, and the
//     same flush sends every queued response in a second io_uring_enter, each a non-blocking
//     sendmsg; each connection then goes on with what its send did — all of it written (the
//     common case), part or none (the rest is written asynchronously, as before), or an error
//     (the connection closes) — and starts its next read, which waits for epoll.
// A read that finds nothing after all (-EAGAIN) waits for epoll again; a connection closed before
// the flush is skipped (-ECANCELED). A loop with few connections ends the flush giving up its core
// (join).
//
// Where io_uring cannot be used (a kernel without it, a seccomp profile or
// kernel.io_uring_disabled refusing it), the first flush finds that out, reads and sends one system
// call each, and no connection of the loop queues again.
#pragma once

#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace boost::asio::detail {
class scheduler;
}  // namespace boost::asio::detail

namespace portico::http {

class ReadinessRead;

// A connection's side of a queued send, asked for when the batch is sent.
class BatchedSend {
 public:
  virtual ~BatchedSend() = default;
  // The socket, or -1 when the connection closed after it queued.
  virtual int batched_socket() = 0;
  // What to send: stays valid until batched_sent is called.
  virtual const msghdr& batched_message() const = 0;
  // Bytes sent, or a negated errno (-EAGAIN: the socket took nothing; -ECANCELED: closed).
  virtual void batched_sent(int result) = 0;
};

// One per io_context, which exactly one thread runs: queued from and sent on that thread.
class IoBatch final : public boost::asio::execution_context::service {
 public:
  using key_type = IoBatch;
  static inline boost::asio::execution_context::id id;

  explicit IoBatch(boost::asio::execution_context& context);
  ~IoBatch() override;

  // The batch of `context`.
  static IoBatch& of(boost::asio::io_context& context);

  // False once the loop found it cannot use io_uring: its connections then read and send
  // themselves.
  bool usable() const { return !tried_ring_ || ring_ != nullptr; }
  // Sent before the loop next polls epoll; `send` is kept until batched_sent.
  void add(std::shared_ptr<BatchedSend> send);
  // Read before the loop next polls epoll, completed through read->batched_read; the read keeps
  // its connection meanwhile.
  void add_read(ReadinessRead* read);

  // A connection's place in its loop's count of connections, from its start to its end. Released
  // on any thread, the loop gone or not.
  class Seat {
   public:
    Seat() = default;
    Seat(Seat&&) noexcept = default;
    Seat& operator=(Seat&& other) noexcept {
      release();
      count_ = std::move(other.count_);
      return *this;
    }
    ~Seat() { release(); }

   private:
    friend class IoBatch;
    explicit Seat(std::shared_ptr<std::atomic<std::size_t>> count) : count_(std::move(count)) {}
    void release() {
      if (count_) count_->fetch_sub(1, std::memory_order_relaxed);
      count_.reset();
    }
    std::shared_ptr<std::atomic<std::size_t>> count_;
  };
  // A connection of this loop's, held while it is open. While the loop has fewer than
  // `yield_below` (0: never), each turn ends by giving up its core to whichever thread waits for
  // it (sched_yield): the threads the turn's answers and jobs woke — a client on the same host,
  // the worker pool — run then, not at the next tick or once the loop runs out of work. A loop
  // with more connections keeps its core: its turns are what holds its connections up.
  Seat join(std::size_t yield_below);

  // In all loops since the process started, for the tests and the metrics (io_counters):
  // io_uring_enter calls with sends in them and the sends (a response each), calls with reads and
  // the reads; flushes queued just before the loop's next poll of epoll (the rest go behind
  // everything queued: see post_flush).
  static std::uint64_t send_batches();
  static std::uint64_t batched_sends();
  static std::uint64_t read_batches();
  static std::uint64_t batched_reads();
  static std::uint64_t flushes_before_poll();
  static std::uint64_t yields();  // turns that ended giving up the core (join)
  // For the tests: loops that make their ring after this call are refused one (true) — the path
  // of a host without io_uring — or allowed again (false).
  static void refuse_rings(bool refuse);

 private:
  struct Ring;
  struct FlushOp;
  void shutdown() override;
  void post_flush();
  void flush();
  void run_round();
  // Entries [first, last) — sending_'s, then reading_'s — through the ring into results_; false
  // when the ring failed.
  bool through_ring(std::size_t first, std::size_t last);
  // The socket of entry `entry` (sending_'s, then reading_'s), or -1 once its connection closed.
  int socket_of(std::size_t entry) const;

  boost::asio::detail::scheduler& scheduler_;  // the io_context's queue of ready handlers
  std::unique_ptr<Ring> ring_;  // made by the first flush, on the loop's thread; null once failed
  std::unique_ptr<FlushOp> flush_op_;  // in the loop's queue while flush_posted_
  bool tried_ring_ = false;
  bool flush_posted_ = false;
  bool flushing_ = false;  // inside flush(), which sends what its rounds queue
  std::vector<std::shared_ptr<BatchedSend>> queued_;
  std::vector<std::shared_ptr<BatchedSend>> sending_;
  std::vector<ReadinessRead*> reads_queued_;  // each keeps its connection while queued
  std::vector<ReadinessRead*> reading_;
  std::vector<int> results_;
  std::shared_ptr<std::atomic<std::size_t>> connections_ =
      std::make_shared<std::atomic<std::size_t>>(0);  // joined and not yet released
  std::atomic<std::size_t> yield_below_{0};           // the last join's: set on any thread
};

}  // namespace portico::http
