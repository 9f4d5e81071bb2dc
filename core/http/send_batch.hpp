// The responses one I/O loop writes in a turn, sent with one system call — internal to core/http:
// only session.hpp includes it.
//
// On this kind of host a system call's entry and exit cost about a microsecond (page-table
// isolation, retpolines, a virtual machine): a keep-alive request took two of them, the read and
// the write — as many as nginx's. A connection whose response is ready queues it here instead of
// calling sendmsg; after the loop has run the handlers ready in this turn (the connections epoll
// reported together) — the flush is posted behind them, so Asio's scheduler polls epoll once,
// without waiting, before it runs — every queued response goes out in one io_uring_enter, each as
// a non-blocking sendmsg the kernel runs inline, and each connection then goes on with what its
// send did — all of it written (the common case), part or none (the rest is written
// asynchronously, as before), or an error (the connection closes). The connections that poll
// finds ready are read in the next turn, after the flush.
//
// Where io_uring cannot be used (a kernel without it, a seccomp profile or
// kernel.io_uring_disabled refusing it), the first batch finds that out, sends its responses one
// sendmsg each, and no connection of the loop queues again.
#pragma once

#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace portico::http {

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
class SendBatch final : public boost::asio::execution_context::service {
 public:
  using key_type = SendBatch;
  static inline boost::asio::execution_context::id id;

  explicit SendBatch(boost::asio::execution_context& context);
  ~SendBatch() override;

  // The batch of `context`.
  static SendBatch& of(boost::asio::io_context& context);

  // False once the loop found it cannot use io_uring: its connections then send themselves.
  bool usable() const { return !tried_ring_ || ring_ != nullptr; }
  // Sent before the loop next waits for events; `send` is kept until batched_sent.
  void add(std::shared_ptr<BatchedSend> send);

  // In all loops since the process started, for the tests: batches sent through io_uring and the
  // responses in them.
  static std::uint64_t batches();
  static std::uint64_t batched_sends();
  // For the tests: loops that make their ring after this call are refused one (true) — the path
  // of a host without io_uring — or allowed again (false).
  static void refuse_rings(bool refuse);

 private:
  struct Ring;
  void shutdown() override;
  void flush();
  // Sends sending_[first, last) through the ring into results_; false when the ring failed.
  bool send_through_ring(std::size_t first, std::size_t last);

  boost::asio::io_context& context_;
  std::unique_ptr<Ring> ring_;  // made by the first flush, on the loop's thread; null once failed
  bool tried_ring_ = false;
  bool flush_posted_ = false;
  std::vector<std::shared_ptr<BatchedSend>> queued_;
  std::vector<std::shared_ptr<BatchedSend>> sending_;
  std::vector<int> results_;
};

}  // namespace portico::http
