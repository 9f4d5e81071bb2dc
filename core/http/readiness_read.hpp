// A read on a plain TCP connection that knows when the socket is drained — internal to core/http:
// only session.hpp includes it.
//
// Asio's reactor tries every read at once ("speculatively") and learns that a socket has nothing
// more for it only from the EAGAIN that read returns: on a keep-alive connection that is one
// wasted recvfrom per request — the read started after each response, which finds the next
// request not yet sent. nginx does not make it: on edge-triggered epoll a read that returns less
// than it asked for has emptied the socket, so it waits for the next edge before reading again —
// and, because a FIN read together with the last bytes brings no further edge, it registers
// EPOLLRDHUP and does not count a read as draining once the peer has closed its side.
//
// This read does the same inside Asio's own reactor, so every other operation on the socket
// (Beast's body reads, writes, the watch for a leaving client, cancellation, close) keeps working
// as before: it is an Asio reactor operation whose perform step returns "done and exhausted" on a
// short read — Asio's reactor then starts the next read of the socket (this one's or anyone's)
// only after epoll reports the socket readable again — unless the epoll events the reactor last
// received for the socket carry EPOLLRDHUP, added to the socket's registration by attach().
//
// That reaches into Asio's reactor internals (the descriptor's registered events, the reactor's
// epoll descriptor and the events it last received), whose layout is Boost 1.81's — the Boost of
// Debian 12, which the gateway is built with. Built against any other Boost, or with a reactor
// other than epoll, attach() returns false and the session reads with async_read_some as before;
// a unit test fails when the tracking is not active where it should be.
//
// With read_through, the read is not made here but by the loop's IoBatch, together with the
// other connections' reads of the same turn (io_batch.hpp); what it got is handled the same way.
#pragma once

#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <boost/version.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

// The internals this reaches into are Boost 1.81's epoll reactor's (see above).
#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define PORTICO_READINESS_READ 1
#else
#define PORTICO_READINESS_READ 0
#endif

namespace portico::http {

class IoBatch;

class ReadinessRead final : private boost::asio::detail::reactor_op {
 public:
  // Called on the thread that runs the socket's io_context, with what the read got.
  using Callback = void (*)(void* target, const boost::system::error_code& ec, std::size_t n);

  ReadinessRead();
  ReadinessRead(const ReadinessRead&) = delete;
  ReadinessRead& operator=(const ReadinessRead&) = delete;

  // Whether this build can track readiness at all (Boost 1.81 on epoll).
  static constexpr bool available() { return PORTICO_READINESS_READ == 1; }

  // Binds to `socket` — open, registered with its io_context's reactor and in non-blocking mode,
  // on a context that exactly one thread runs, before any operation is started on it — and adds
  // EPOLLRDHUP to its registration. False, with nothing changed, when this build cannot track
  // readiness or the socket is not in that state; the caller then reads as before.
  bool attach(boost::asio::ip::tcp::socket& socket);
  bool attached() const { return socket_ != nullptr; }

  // Reads with `batch`'s next flush rather than with a recv of its own (io_batch.hpp): when the
  // read would be made — epoll reported the socket readable, or the last read may have left bytes
  // — it is queued with the batch, which reads it (with the other sockets ready in the same turn,
  // in one system call) and completes it. While `batch` is usable; otherwise as before.
  void read_through(IoBatch* batch) { batch_ = batch; }

  // Reads at most `buffer.size()` bytes; then calls `callback(target, ec, n)` on the socket's
  // thread, through its io_context like any completion, and lets go of `keep` (what keeps `target`
  // — and this object — alive meanwhile). One read at a time. On shutdown of the io_context with
  // the read outstanding, `keep` is let go of without the call.
  void start(std::shared_ptr<void> keep, void* target, Callback callback,
             boost::asio::mutable_buffer buffer);

  // Reads that found the socket empty (EAGAIN), in all threads since the process started: what
  // this class exists to avoid, counted for the tests.
  static std::uint64_t would_block_reads();

  // The batch's side of a queued read (IoBatch only).
  int batched_read_socket() const;  // -1 once the socket is closed
  boost::asio::mutable_buffer batched_read_buffer() const { return buffer_; }
  // What the batch's recv returned (bytes, or a negated errno): completes the read, or starts it
  // again to wait for epoll when the socket had nothing after all.
  void batched_read(int result);
  // The io_context is going away with the read queued: let go of it without the call.
  void batched_read_abandoned() { const std::shared_ptr<void> keep = std::move(keep_); }

 private:
  void call();  // the callback, with ec_ and bytes_transferred_; keep_ let go of after it

  static status do_perform(reactor_op* base);
  static void do_complete(void* owner, boost::asio::detail::scheduler_operation* base,
                          const boost::system::error_code& ec, std::size_t n);

  boost::asio::ip::tcp::socket* socket_ = nullptr;
  void* reactor_ = nullptr;  // the socket's io_context's epoll_reactor
  boost::asio::mutable_buffer buffer_;
  std::shared_ptr<void> keep_;
  void* target_ = nullptr;
  Callback callback_ = nullptr;
  IoBatch* batch_ = nullptr;  // see read_through
  bool deferred_ = false;     // performed by handing the read to batch_
};

}  // namespace portico::http
