// The HTTP/1.1 listener (Boost.Asio/Beast, optional TLS): keep-alive, pipelining, header and body
// limits, header/idle timeouts, graceful drain. Beast stays out of this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "core/pipeline/pending_request.hpp"
#include "portico/http_types.hpp"

namespace boost::asio {
class io_context;
}

namespace portico::http {

struct HttpServerOptions {
  std::string name = "public";  // for messages: "public", "admin", "tls"
  config::ListenAddress listen;
  std::size_t max_body = 1 << 20;
  std::size_t max_header = 16 << 10;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::optional<config::TlsConfig> tls;  // cert and key PEM files
  int max_json_depth = 64;               // handed to plugins with each request
  // How long a request may wait for its answer (server.handler_timeout); then it is timed out
  // (PendingRequest::timed_out) and answered 504.
  std::chrono::milliseconds handler_timeout{30000};
  // Most connections open at once (0: no cap). At the cap the listener stops accepting until one
  // closes — the kernel's backlog holds the rest — so the process keeps descriptors for the admin
  // listener, the store and the logs instead of spinning on EMFILE.
  std::size_t max_connections = 0;
  // Plain-TCP responses of a loop's turn sent with one system call (io_batch.hpp) where the
  // loop's thread owns its connections and io_uring is allowed; false: one sendmsg each.
  bool batch_sends = true;
  // The same loops' reads of their ready connections, in one system call before the answers';
  // false: one recv each.
  bool batch_reads = true;
  // A loop that batches (either of the above) and has fewer connections than this ends each turn
  // giving up its core to a thread waiting for it (IoBatch::join); 0: never.
  std::size_t yield_below_connections = 64;
  // Told each time accepting pauses: reason "connection_limit" (the cap above) or "fd_limit"
  // (accept failed for want of descriptors or memory; retried with a growing back-off up to 1 s)
  // or "accept_error", with a line for the log. Called on the acceptor's thread.
  std::function<void(std::string_view reason, const std::string& message)> on_accept_pause;
};

// Why this process cannot send and read in batches (HttpServerOptions::batch_sends, batch_reads):
// io_uring refused — "io_uring_queue_init: Operation not permitted" — or empty when it can. For
// the start-up's warning; each loop finds it out for itself too, then sends and reads one system
// call each.
std::string io_batching_refusal();

// What the loops of every listener did in batches since the process started, for the metrics:
// io_uring_enter calls that read requests or sent responses, the reads and responses in them, and
// the turns that ended giving up the core (HttpServerOptions::yield_below_connections).
struct IoCounters {
  std::uint64_t read_calls = 0;
  std::uint64_t reads = 0;
  std::uint64_t send_calls = 0;
  std::uint64_t sends = 0;
  std::uint64_t yields = 0;
};
IoCounters io_counters();

// Called on the connection's thread (or strand) with a complete request. Answers through
// `respond` — at once, or later from any thread; the connection posts the answer back to its own
// thread — and returns what to tell when the client leaves or the answer takes longer than
// handler_timeout (null: nothing to tell; then `respond` must have been called already).
// The connection fills the same Request again for its next request once it holds the only
// reference to it: keep the pointer as long as the request is needed, never the object alone.
using RequestHandler = std::function<std::shared_ptr<pipeline::PendingRequest>(
    std::shared_ptr<Request> request, pipeline::Respond respond)>;

class HttpServer {
 public:
  // Every connection on `io`, each on a strand of its own (any number of threads may run `io`).
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, RequestHandler handler);
  // Connections spread round-robin over `contexts`, each of which must be run by exactly one
  // thread: a connection's handlers then run on that thread without a strand, and each thread
  // waits on its own epoll set (the way nginx runs one event loop per worker). The acceptor runs
  // on the first context.
  HttpServer(const std::vector<boost::asio::io_context*>& contexts, HttpServerOptions options,
             RequestHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Throws std::runtime_error("cannot listen on <addr>: <reason>").
  void start();
  std::uint16_t port() const;  // the bound port (useful with port 0)

  // Stops accepting, closes idle keep-alive connections, and lets requests in flight finish; their
  // responses carry `Connection: close`.
  void begin_shutdown();
  std::size_t open_connections() const;

  struct Impl;  // defined in http_server.cpp; public so sessions there can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace portico::http
