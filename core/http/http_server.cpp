// Listener and per-connection sessions, shaped after Beast's advanced server: a fresh parser per
// request with body/header limits and a deadline before every read and write (one lazily armed
// timer per connection, see Session::expires_after).
#include "core/http/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <sys/socket.h>

#include "core/http/beast_conversion.hpp"
#include "core/http/request_reader.hpp"
#include "core/pipeline/problems.hpp"
#include "core/pipeline/request_id.hpp"

namespace portico::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::size_t kReadSize = 4096;

// Every session registers here so a drain can close the idle ones.
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  virtual void close_if_idle() = 0;
};

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(std::vector<asio::io_context*> contexts, bool single_threaded, HttpServerOptions opts,
       RequestHandler h)
      : contexts(std::move(contexts)),
        single_threaded(single_threaded),
        options(std::move(opts)),
        handler(std::move(h)),
        acceptor(asio::make_strand(*this->contexts.front())),
        accept_timer(acceptor.get_executor()) {}

  // Where the next connection lives: round-robin over the contexts.
  asio::any_io_executor next_executor() {
    asio::io_context& io =
        *contexts[next.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
    if (single_threaded) return io.get_executor();
    return asio::make_strand(io);
  }

  std::vector<asio::io_context*> contexts;
  bool single_threaded;
  std::atomic<std::size_t> next{0};
  HttpServerOptions options;
  RequestHandler handler;
  tcp::acceptor acceptor;
  asio::steady_timer accept_timer;              // back-off after a failed accept
  std::chrono::milliseconds accept_backoff{0};  // on the acceptor's strand only
  std::atomic<bool> paused_at_capacity{false};
  std::optional<ssl::context> tls;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> connections{0};
  std::mutex sessions_mutex;
  std::list<std::weak_ptr<SessionControl>> sessions;

  void accept();
  void accept_later(std::string_view reason, const std::string& message);
  // A session ended: resume accepting if the connection cap had paused it.
  void connection_closed() {
    if (paused_at_capacity.exchange(false)) {
      asio::post(acceptor.get_executor(), [self = shared_from_this()] { self->accept(); });
    }
  }
  void register_session(const std::shared_ptr<SessionControl>& s) {
    std::lock_guard lock(sessions_mutex);
    // Forget sessions that are gone, so the list stays as long as the open connections.
    sessions.remove_if([](const auto& weak) { return weak.expired(); });
    sessions.push_back(s);
  }
};

namespace {

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
class Session final : public SessionControl, public std::enable_shared_from_this<Session<Stream>> {
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
    server_->connections.fetch_sub(1);
    server_->connection_closed();
  }

  void start() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      beast::error_code ec;
      tcp_layer(stream_).non_blocking(true, ec);
      send_at_once_ = !ec;  // write() may send without waiting only on a non-blocking socket
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
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    idle_ = false;
    reader_.reset();  // its fields live in field_arena_: gone before the arena starts over
    field_arena_.reset();
    reader_.emplace(options().max_header, options().max_body, &header_scratch_, &field_arena_);
    expires_after(options().header_timeout);  // for the whole header section
    continue_header();
  }

  void continue_header() {
    switch (reader_->read_header(buffer_)) {
      case ReadStep::done: return read_body();
      case ReadStep::failed: return refuse();
      case ReadStep::need_more: break;
    }
    stream_.async_read_some(buffer_.prepare(kReadSize),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->on_read_error(ec);
                              self->buffer_.commit(n);
                              self->continue_header();
                            });
  }

  void read_body() {
    // A request without a body is complete with its header: no read to wait for.
    if (reader_->parser().is_done()) return dispatch();
    expires_after(options().idle_timeout);
    bhttp::async_read(stream_, buffer_, reader_->parser(),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->on_read_error(ec);
                        self->dispatch();
                      });
  }

  // Limits and malformed input are answered with a problem and the connection is closed;
  // timeouts and resets just close it.
  void on_read_error(beast::error_code ec) {
    if (auto problem = reader_->problem_for(ec)) return reply_and_close(*problem);
    close();
  }

  void refuse() {
    if (reader_->problem()) return reply_and_close(*reader_->problem());
    close();
  }

  void reply_and_close(const Problem& problem) {
    std::string id = pipeline::new_request_id();
    Response response = pipeline::problem_response(problem, id);
    write_wire_response(std::move(response), "X-Request-Id: " + id + "\r\n", 11, false, false,
                        response_);
    write(false);
  }

  // Hands the request to the pipeline. An answer given at once is written at once; otherwise the
  // connection waits — watching for the client leaving, with handler_timeout as the deadline —
  // while this thread serves other connections, and the answer is posted back here.
  void dispatch() {
    keep_alive_ = reader_->keep_alive() && !server_->draining;
    head_ = reader_->head();
    version_ = reader_->version();
    Request plain = reader_->take_request(client_ip_, options().max_json_depth);
    auto self = this->shared_from_this();
    const auto dispatching_thread = std::this_thread::get_id();
    dispatching_.store(true, std::memory_order_release);
    auto pending = server_->handler(
        std::move(plain),
        [self, dispatching_thread](Response&& response, std::string_view core_headers) {
          if (self->dispatching_.load(std::memory_order_acquire) &&
              std::this_thread::get_id() == dispatching_thread) {
            self->answered_at_once_ = std::move(response);
            self->core_headers_.assign(core_headers);  // keeps its capacity: no allocation
            return;
          }
          asio::post(tcp_layer(self->stream_).get_executor(),
                     [self, response = std::move(response),
                      core = std::string(core_headers)]() mutable {
                       self->respond(std::move(response), core);
                     });
        });
    dispatching_.store(false, std::memory_order_release);
    if (answered_at_once_) {
      Response response = std::move(*answered_at_once_);
      answered_at_once_.reset();
      return respond(std::move(response), core_headers_);
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

  void respond(Response&& response, std::string_view core_headers) {
    pending_.reset();
    handler_timer_.cancel();
    if (closed_) return;
    if (watching_) {
      beast::error_code ignored;
      tcp_layer(stream_).cancel(ignored);  // ends the watch; the write is not affected
    }
    const bool keep_alive = keep_alive_ && !server_->draining;
    write_wire_response(std::move(response), core_headers, version_, head_, keep_alive, response_);
    write(keep_alive);
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
      const std::array<asio::const_buffer, 2> buffers{asio::buffer(response_.head),
                                                      asio::buffer(response_.body)};
      beast::error_code ec;
      sent = tcp_layer(stream_).write_some(buffers, ec);  // non-blocking: see start()
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
        return written(ec, keep_alive);
      }
      if (sent == response_.head.size() + response_.body.size()) {
        return written({}, keep_alive, /*at_once=*/true);
      }
    }
    write_rest(sent, keep_alive);
  }

  void write_rest(std::size_t sent, bool keep_alive) {
    const auto head = asio::buffer(response_.head);
    const auto body = asio::buffer(response_.body);
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
    response_.body = std::string();  // the head keeps its capacity for the next one
    if (ec) return close();
    if (!keep_alive) return linger_then_close();
    // A pipelined request already buffered would be answered inside this call, and the next
    // inside that one: go round the loop instead, which also lets other connections in.
    if (at_once) {
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
  beast::flat_buffer buffer_;
  std::string header_scratch_;  // the readers' header bytes, reused request after request
  FieldArena field_arena_;      // the readers' header fields, likewise
  std::optional<RequestReader> reader_;
  WireResponse response_;  // kept alive until its write completes; its head buffer is reused
  asio::steady_timer deadline_timer_;  // see expires_after()
  Clock::time_point deadline_ = Clock::time_point::max();
  std::uint64_t deadline_generation_ = 0;
  bool deadline_armed_ = false;
  asio::steady_timer handler_timer_;
  std::shared_ptr<pipeline::PendingRequest> pending_;  // while the answer is awaited
  std::atomic<bool> dispatching_{false};  // inside server_->handler, on this thread
  std::optional<Response> answered_at_once_;
  std::string core_headers_;  // the lines that came with answered_at_once_
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
  bool watching_ = false;          // watch_client's wait is outstanding
  bool read_after_watch_ = false;  // wait_for_request was deferred until it ends
  bool idle_ = true;
  bool closed_ = false;
  bool send_at_once_ = false;  // plain TCP on a non-blocking socket: write() tries sendmsg first
  std::size_t linger_left_ = 0;  // bytes linger_then_close() still drops
};

std::string peer_address(const tcp::socket& socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "";
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

}  // namespace

void HttpServer::Impl::accept() {
  if (draining || !acceptor.is_open()) return;
  if (options.max_connections > 0 && connections.load() >= options.max_connections) {
    paused_at_capacity = true;
    // A session may have closed between the check and the flag: then nobody would resume us.
    if (connections.load() >= options.max_connections || !paused_at_capacity.exchange(false)) {
      if (options.on_accept_pause) {
        options.on_accept_pause("connection_limit", options.name +
                                                        " listener at its connection limit (" +
                                                        std::to_string(options.max_connections) +
                                                        " open): not accepting until one closes");
      }
      return;
    }
  }
  acceptor.async_accept(next_executor(), [self = shared_from_this()](beast::error_code ec,
                                                                     tcp::socket socket) {
    if (!self->acceptor.is_open() || ec == asio::error::operation_aborted) return;
    if (ec) {
      const bool descriptors = ec == asio::error::no_descriptors || ec.value() == ENFILE ||
                               ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
      return self->accept_later(descriptors ? "fd_limit" : "accept_error",
                                self->options.name + " listener cannot accept: " + ec.message());
    }
    self->accept_backoff = std::chrono::milliseconds(0);
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::string ip = peer_address(socket);
    if (self->tls) {
      auto s = std::make_shared<Session<beast::ssl_stream<tcp::socket>>>(
          self, std::move(ip), std::move(socket), *self->tls);
      self->register_session(s);
      s->start();
    } else {
      auto s = std::make_shared<Session<tcp::socket>>(self, std::move(ip), std::move(socket));
      self->register_session(s);
      s->start();
    }
    self->accept();
  });
}

// Accepting again at once would fail again at once (a busy loop on EMFILE): wait 10 ms, doubling
// up to 1 s while it keeps failing. Open connections are served meanwhile.
void HttpServer::Impl::accept_later(std::string_view reason, const std::string& message) {
  accept_backoff = std::clamp(accept_backoff * 2, std::chrono::milliseconds(10),
                              std::chrono::milliseconds(1000));
  if (options.on_accept_pause) options.on_accept_pause(reason, message);
  accept_timer.expires_after(accept_backoff);
  accept_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->accept();
  });
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, RequestHandler handler)
    : impl_(std::make_shared<Impl>(std::vector<asio::io_context*>{&io}, false, std::move(options),
                                   std::move(handler))) {}

HttpServer::HttpServer(const std::vector<asio::io_context*>& contexts, HttpServerOptions options,
                       RequestHandler handler) {
  if (contexts.empty()) throw std::invalid_argument("HttpServer needs at least one io_context");
  impl_ = std::make_shared<Impl>(contexts, true, std::move(options), std::move(handler));
}

HttpServer::~HttpServer() {
  beast::error_code ignored;
  impl_->draining = true;
  impl_->acceptor.close(ignored);
  impl_->accept_timer.cancel();
}

void HttpServer::start() {
  auto& opts = impl_->options;
  const std::string where = opts.listen.to_string();
  if (opts.tls) {
    try {
      impl_->tls.emplace(ssl::context::tls_server);
      impl_->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                              ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                              ssl::context::no_tlsv1_1);
      impl_->tls->use_certificate_chain_file(opts.tls->cert);
      impl_->tls->use_private_key_file(opts.tls->key, ssl::context::pem);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot use TLS certificate '" + opts.tls->cert + "' and key '" +
                               opts.tls->key + "': " + e.what());
    }
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(opts.listen.host, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": invalid address");
  tcp::endpoint endpoint(address, opts.listen.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  impl_->accept();
}

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HttpServer::begin_shutdown() {
  impl_->draining = true;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->accept_timer.cancel();
  });
  std::lock_guard lock(impl_->sessions_mutex);
  for (auto& weak : impl_->sessions) {
    if (auto session = weak.lock()) session->close_if_idle();
  }
}

std::size_t HttpServer::open_connections() const {
  return impl_->connections.load();
}

}  // namespace portico::http
