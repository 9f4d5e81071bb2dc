// One connection: reading requests (header and body limits, a deadline before every read and
// write on one lazily armed timer), handing them to the pipeline, writing the answers, keep-alive,
// pipelining, the watch for a client that leaves, linger before close — internal to core/http:
// only http_server.cpp includes it.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <sys/socket.h>

#include "core/http/beast_conversion.hpp"
#include "core/http/io_batch.hpp"
#include "core/http/readiness_read.hpp"
#include "core/http/request_reader.hpp"
#include "core/http/request_state.hpp"
#include "core/http/server_impl.hpp"
#include "core/pipeline/problems.hpp"
#include "core/pipeline/request_id.hpp"

namespace portico::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;  // asio, ssl and tcp: server_impl.hpp

constexpr std::size_t kReadSize = 4096;

// Plain TCP or TLS: the session differs only in handshake and close.
template <class Stream>
tcp::socket& tcp_layer(Stream& s) {
  if constexpr (std::is_same_v<Stream, tcp::socket>) {
    return s;
  } else {
    return beast::get_lowest_layer(s);
  }
}

using Clock = std::chrono::steady_clock;

template <class Stream>
class Session final : public SessionControl,
                      public BatchedSend,
                      public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(std::shared_ptr<HttpServer::Impl> server, std::string client_ip, Args&&... args)
      : server_(std::move(server)),
        client_ip_(std::move(client_ip)),
        stream_(std::forward<Args>(args)...),
        deadline_timer_(tcp_layer(stream_).get_executor()),
        handler_timer_(tcp_layer(stream_).get_executor()) {
    server_->connections.fetch_add(1);
  }
  ~Session() override {
    release_state();
    server_->connections.fetch_sub(1);
    server_->connection_closed();
  }

  void start() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      beast::error_code ec;
      tcp_layer(stream_).non_blocking(true, ec);
      send_at_once_ = !ec;  // write() may send without waiting only on a non-blocking socket
      // On a context only one thread runs, the socket's reads may track its readiness
      // (readiness_read.hpp); they then all run on that thread, the first one too.
      if (send_at_once_ && server_->single_threaded && readiness_.attach(tcp_layer(stream_))) {
        // The same thread sends its responses and reads its requests in batches (io_batch.hpp).
        if (options().batch_sends || options().batch_reads) {
          auto& batch = IoBatch::of(static_cast<asio::io_context&>(
              asio::query(tcp_layer(stream_).get_executor(), asio::execution::context)));
          if (options().batch_sends) batch_ = &batch;
          if (options().batch_reads) readiness_.read_through(&batch);
          seat_ = batch.join(options().yield_below_connections);
        }
        return asio::post(tcp_layer(stream_).get_executor(),
                          [self = this->shared_from_this()] { self->wait_for_request(); });
      }
      wait_for_request();
    } else {
      expires_after(server_->options.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();
                                self->wait_for_request();
                              });
    }
  }

  void close_if_idle() override {
    asio::post(tcp_layer(stream_).get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->close();
    });
  }

 private:
  const HttpServerOptions& options() const { return server_->options; }

  // Between requests the connection may sit idle for idle_timeout; once a byte arrives the client
  // has header_timeout to finish the headers.
  void wait_for_request() {
    // The watch on the last request's client has not ended yet: go on when it does.
    if (watching_) {
      read_after_watch_ = true;
      return;
    }
    if (server_->draining) return close();
    idle_ = true;
    if (buffer_.size() > 0) return read_header();  // pipelined request already buffered
    expires_after(options().idle_timeout);
    read_some(&Session::on_request_bytes);
  }

  void on_request_bytes(beast::error_code ec, std::size_t n) {
    if (ec) return close();
    buffer_.commit(n);
    read_header();
  }

  // Reads what the socket has, up to kReadSize, into buffer_'s free space; then `on_read`.
  using OnRead = void (Session::*)(beast::error_code, std::size_t);
  void read_some(OnRead on_read) {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      if (readiness_.attached()) {
        on_read_ = on_read;
        return readiness_.start(
            this->shared_from_this(), this,
            [](void* target, const beast::error_code& ec, std::size_t n) {
              Session& self = *static_cast<Session*>(target);
              (self.*self.on_read_)(ec, n);
            },
            buffer_.prepare(kReadSize));
      }
    }
    stream_.async_read_some(buffer_.prepare(kReadSize), [self = this->shared_from_this(), on_read](
                                                            beast::error_code ec, std::size_t n) {
      ((*self).*on_read)(ec, n);
    });
  }

  void read_header() {
    idle_ = false;
    if (!state_) state_ = RequestStatePool::take();
    // The state's last request object, with its memory — the pool kept it only if nothing else
    // held it (RequestStatePool::give_back) — or a new one.
    std::shared_ptr<Request>& request = state_->request;
    if (!request) request = std::make_shared<Request>();
    state_->reader.emplace(options().max_header, options().max_body, *request);
    expires_after(options().header_timeout);  // for the whole header section
    continue_header();
  }

  void continue_header() {
    switch (state_->reader->read_header(buffer_)) {
      case ReadStep::done: return read_body();
      case ReadStep::failed: return refuse();
      case ReadStep::need_more: break;
    }
    read_some(&Session::on_header_bytes);
  }

  void on_header_bytes(beast::error_code ec, std::size_t n) {
    if (ec) return on_read_error(ec);
    buffer_.commit(n);
    continue_header();
  }

  void read_body() {
    // A request without a body is complete with its header: no read to wait for.
    if (state_->reader->complete()) return dispatch();
    expires_after(options().idle_timeout);
    bhttp::async_read(stream_, buffer_, state_->reader->parser(),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->on_read_error(ec);
                        self->dispatch();
                      });
  }

  // Limits and malformed input are answered with a problem and the connection is closed;
  // timeouts and resets just close it.
  void on_read_error(beast::error_code ec) {
    if (auto problem = state_->reader->problem_for(ec)) return reply_and_close(*problem);
    close();
  }

  void refuse() {
    if (state_->reader->problem()) return reply_and_close(*state_->reader->problem());
    close();
  }

  void reply_and_close(const Problem& problem) {
    std::string id = pipeline::new_request_id();
    write_wire_response(pipeline::problem_response(problem, id), "X-Request-Id: " + id + "\r\n", 11,
                        false, false, state_->response);
    write(false);
  }

  // Hands the request to the pipeline. An answer given at once is written at once; otherwise the
  // connection waits — watching for the client leaving, with handler_timeout as the deadline —
  // while this thread serves other connections, and the answer is posted back here.
  void dispatch() {
    keep_alive_ = state_->reader->keep_alive() && !server_->draining;
    head_ = state_->reader->head();
    version_ = state_->reader->version();
    state_->reader->finish_request(client_ip_, options().max_json_depth);
    auto self = this->shared_from_this();
    const auto dispatching_thread = std::this_thread::get_id();
    dispatching_.store(true, std::memory_order_release);
    auto pending = server_->handler(
        state_->request,
        [self, dispatching_thread](Answer&& answer, std::string_view core_headers) {
          if (self->dispatching_.load(std::memory_order_acquire) &&
              std::this_thread::get_id() == dispatching_thread) {
            self->state_->answered_at_once = std::move(answer);
            self->state_->core_headers.assign(core_headers);  // keeps its capacity: no allocation
            return;
          }
          asio::post(tcp_layer(self->stream_).get_executor(),
                     [self, answer = std::move(answer),
                      core = std::string(core_headers)]() mutable {
                       self->respond(std::move(answer), core);
                     });
        });
    dispatching_.store(false, std::memory_order_release);
    if (state_->answered_at_once) {
      Answer answer = std::move(*state_->answered_at_once);
      state_->answered_at_once.reset();
      answering_ = std::move(pending);
      return respond(std::move(answer), state_->core_headers);
    }
    if (!pending) return close();  // a handler that neither answered nor can be told anything
    pending_ = std::move(pending);
    expires_never();  // handler_timeout is the deadline now
    handler_timer_.expires_after(options().handler_timeout);
    handler_timer_.async_wait([self](beast::error_code ec) {
      if (ec || !self->pending_) return;
      auto pending = self->pending_;
      pending->timed_out();  // answers 504 through respond, posted here
    });
    watch_client();
  }

  // While the answer is awaited: a readable socket with nothing to read means the client closed
  // (or reset) the connection, and the request is cancelled. Bytes of a pipelined request stay in
  // the socket, unread, until this one is answered.
  void watch_client() {
    watching_ = true;
    tcp_layer(stream_).async_wait(
        tcp::socket::wait_read, [self = this->shared_from_this()](beast::error_code ec) {
          self->watching_ = false;
          if (!ec && self->pending_ && !self->closed_) {
            char byte = 0;
            const auto n = ::recv(tcp_layer(self->stream_).native_handle(), &byte, 1,
                                  MSG_PEEK | MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
              auto pending = std::move(self->pending_);
              self->handler_timer_.cancel();
              pending->client_gone();
              return self->close();
            }
            if (n < 0) return self->watch_client();  // woken for nothing: keep watching
          }
          if (self->read_after_watch_) {
            self->read_after_watch_ = false;
            self->wait_for_request();
          }
        });
  }

  void respond(Answer&& answer, std::string_view core_headers) {
    if (pending_) answering_ = std::move(pending_);
    handler_timer_.cancel();
    if (closed_) return;
    if (watching_) {
      beast::error_code ignored;
      tcp_layer(stream_).cancel(ignored);  // ends the watch; the write is not affected
    }
    const bool keep_alive = keep_alive_ && !server_->draining;
    write_wire_response(std::move(answer), core_headers, version_, head_, keep_alive,
                        state_->response);
    write(keep_alive);
  }

  // Once a response is written, or the connection ends: the response's body and any shared answer
  // go first, while answering_ still keeps that answer's code loaded; then the answered request,
  // which held the request object; then the state, back to this thread's pool — the request
  // object in it unless something else still holds it (the head keeps its capacity).
  void release_state() {
    if (state_) {
      state_->response.body = std::string();
      state_->response.shared.reset();
    }
    answering_.reset();
    if (state_) RequestStatePool::give_back(std::move(state_));
  }

  // Every deadline of the connection — TLS handshake, header section, idle wait, body, write,
  // linger — is one time point on one timer, armed lazily: moving the deadline later, which
  // every request does, costs a clock read; the timer is moved only when a deadline comes
  // sooner than it is set for, and when it fires early it re-arms for the deadline of the
  // moment. When a deadline passes, the connection is closed and its outstanding read or
  // write ends with an error, as Beast's timed stream did.
  void expires_after(Clock::duration d) {
    deadline_ = Clock::now() + d;
    if (!deadline_armed_ || deadline_ < deadline_timer_.expiry()) arm_deadline();
  }
  void expires_never() { deadline_ = Clock::time_point::max(); }

  void arm_deadline() {
    deadline_armed_ = true;
    const auto armed = ++deadline_generation_;
    deadline_timer_.expires_at(deadline_);
    deadline_timer_.async_wait([self = this->shared_from_this(), armed](beast::error_code ec) {
      if (ec || armed != self->deadline_generation_) return;  // cancelled, or armed again since
      self->deadline_armed_ = false;
      if (self->closed_ || self->deadline_ == Clock::time_point::max()) return;
      if (Clock::now() < self->deadline_) return self->arm_deadline();
      self->close();
    });
  }

  // Sends response_ (written by write_wire_response). On plain TCP the socket usually takes the
  // whole response at once: one sendmsg, and the connection goes on without a trip through the
  // loop; what the socket does not take is written asynchronously.
  void write(bool keep_alive) {
    std::size_t sent = 0;
    if (send_at_once_) {
      const WireResponse& response = state_->response;
      if (batch_ && batch_->usable()) {
        const std::string_view body = response.body_bytes();
        batched_iov_[0] = {const_cast<char*>(response.head.data()), response.head.size()};
        batched_iov_[1] = {const_cast<char*>(body.data()), body.size()};
        batched_message_ = {};
        batched_message_.msg_iov = batched_iov_.data();
        batched_message_.msg_iovlen = body.empty() ? 1 : 2;
        batched_keep_alive_ = keep_alive;
        return batch_->add(this->shared_from_this());
      }
      const std::array<asio::const_buffer, 2> buffers{asio::buffer(response.head),
                                                      asio::buffer(response.body_bytes())};
      beast::error_code ec;
      sent = tcp_layer(stream_).write_some(buffers, ec);  // non-blocking: see start()
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
        return written(ec, keep_alive);
      }
      if (sent == response.head.size() + response.body_bytes().size()) {
        return written({}, keep_alive, /*at_once=*/true);
      }
    }
    write_rest(sent, keep_alive);
  }

  // BatchedSend: the response queued by write().
  int batched_socket() override { return closed_ ? -1 : tcp_layer(stream_).native_handle(); }
  const msghdr& batched_message() const override { return batched_message_; }
  void batched_sent(int result) override {
    const std::size_t size = batched_iov_[0].iov_len + batched_iov_[1].iov_len;
    if (result >= 0 && static_cast<std::size_t>(result) == size) {
      return written({}, batched_keep_alive_, /*at_once=*/true);
    }
    if (result == -EAGAIN || result == -EWOULDBLOCK) result = 0;
    if (result < 0) {
      return written(beast::error_code(-result, boost::system::system_category()),
                     batched_keep_alive_);
    }
    write_rest(static_cast<std::size_t>(result), batched_keep_alive_);
  }

  void write_rest(std::size_t sent, bool keep_alive) {
    const auto head = asio::buffer(state_->response.head);
    const auto body = asio::buffer(state_->response.body_bytes());
    const std::array<asio::const_buffer, 2> buffers{
        head + std::min(sent, head.size()), body + (sent > head.size() ? sent - head.size() : 0)};
    expires_after(options().idle_timeout);
    asio::async_write(
        stream_, buffers,
        [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
          self->written(ec, keep_alive);
        });
  }

  void written(beast::error_code ec, bool keep_alive, bool at_once = false) {
    release_state();
    if (ec) return close();
    if (!keep_alive) return linger_then_close();
    // A pipelined request already buffered would be answered inside this call, and the next
    // inside that one: go round the loop instead, which also lets other connections in. With
    // nothing buffered the next read is only started here (its completion always goes through
    // the loop), so no trip round it is owed: that post cost ~680 instructions a request.
    if (at_once && buffer_.size() > 0) {
      return asio::post(tcp_layer(stream_).get_executor(),
                        [self = this->shared_from_this()] { self->wait_for_request(); });
    }
    wait_for_request();
  }

  // After a response that ends the connection: stop sending, then read and drop whatever the
  // client still sends (the rest of a body over the limit, a pipelined request) until it closes,
  // for at most kLingerTime and kLingerBytes. Closing with unread bytes would make the kernel
  // send a reset, which can destroy the response before the client reads it, and fails a client
  // that is still sending its body (RFC 9112 §9.6). Shutdown does not wait for it.
  static constexpr std::chrono::seconds kLingerTime{2};
  static constexpr std::size_t kLingerBytes = 16 * 1024 * 1024;

  void linger_then_close() {
    if (closed_ || server_->draining) return close();
    beast::error_code ignored;
    tcp_layer(stream_).shutdown(tcp::socket::shutdown_send, ignored);
    idle_ = true;  // nothing left to answer: a shutdown closes it at once
    linger_left_ = kLingerBytes;
    expires_after(kLingerTime);
    drain();
  }

  void drain() {
    buffer_.clear();
    tcp_layer(stream_).async_read_some(
        buffer_.prepare(16 * 1024),
        [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
          if (ec || n >= self->linger_left_) return self->close();  // EOF, time or bytes up
          self->linger_left_ -= n;
          self->drain();
        });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    tcp_layer(stream_).shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer(stream_).close(ignored);
    deadline_timer_.cancel();
  }

  std::shared_ptr<HttpServer::Impl> server_;
  std::string client_ip_;
  Stream stream_;
  ReadinessRead readiness_;   // plain TCP on a one-thread context: see start()
  OnRead on_read_ = nullptr;  // what read_some calls when readiness_ completes
  beast::flat_buffer buffer_;
  // The answered request until its response is written: it keeps the snapshot it ran on — and so
  // every plugin of it — loaded while the response may still hold a plugin's shared answer, whose
  // release runs the plugin's code. See release_state().
  std::shared_ptr<pipeline::PendingRequest> answering_;
  std::unique_ptr<RequestState> state_;  // from the first byte of a request to its response
  asio::steady_timer deadline_timer_;  // see expires_after()
  Clock::time_point deadline_ = Clock::time_point::max();
  std::uint64_t deadline_generation_ = 0;
  bool deadline_armed_ = false;
  asio::steady_timer handler_timer_;
  std::shared_ptr<pipeline::PendingRequest> pending_;  // while the answer is awaited
  std::atomic<bool> dispatching_{false};               // inside server_->handler, on this thread
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
  bool watching_ = false;          // watch_client's wait is outstanding
  bool read_after_watch_ = false;  // wait_for_request was deferred until it ends
  bool idle_ = true;
  bool closed_ = false;
  bool send_at_once_ = false;  // plain TCP on a non-blocking socket: write() tries sendmsg first
  IoBatch* batch_ = nullptr;   // its loop's, when write() queues there instead (see start())
  IoBatch::Seat seat_;         // counted among its loop's connections while it batches
  std::array<iovec, 2> batched_iov_{};  // the queued response: head, body
  msghdr batched_message_{};
  bool batched_keep_alive_ = false;
  std::size_t linger_left_ = 0;  // bytes linger_then_close() still drops
};

}  // namespace portico::http
