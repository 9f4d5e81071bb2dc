// The listener: binding, accepting (round-robin over the I/O threads, paused at the connection
// cap, backing off when accept fails), draining. Each connection is a Session (session.hpp).
#include "core/http/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>

#include <algorithm>
#include <stdexcept>

#include "core/http/server_impl.hpp"
#include "core/http/session.hpp"

namespace portico::http {
namespace {

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
