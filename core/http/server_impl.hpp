// The listener's state that its sessions share (core/http/session.hpp) — internal to
// core/http: only http_server.cpp includes it.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/http_server.hpp"

namespace portico::http {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

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

}  // namespace portico::http
