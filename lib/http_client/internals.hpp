// The client's internal types, shared by connection_pool.cpp (HttpClient::Impl: threads, pools,
// the list of live attempts, shutdown), attempt.cpp (Attempt: one request's state machine) and
// request_head.cpp (validation and the request head). Not part of the API: only lib/http_client
// includes it. Beast and Asio live here, never in http_client.hpp.
//
// Locking: `pools_mutex` guards the pools (idle lists, active counts, queues) and `live_mutex` the
// list of attempts not yet completed; both are held only for a few pointer moves, never during I/O.
#pragma once

#include "portico/http_types.hpp"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "lib/http_client/http_client.hpp"

namespace portico::http_client {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
}  // namespace portico::http_client

namespace portico::http_client::detail {

inline constexpr std::uint32_t kHeaderLimit = 16 * 1024;
inline constexpr const char* kStopped = "client stopped";

// A response body that keeps the first `excerpt` bytes and counts the rest. Past `limit` it fails
// with body_limit — as soon as the excerpt is complete when Content-Length already says so — and
// that is checked here rather than by the parser so the header is always complete when it happens.
struct ExcerptBody {
  struct value_type {
    std::string text;
    std::uint64_t limit = 0;
    std::uint64_t seen = 0;
    std::size_t excerpt = 1024;  // bytes kept in text
    bool too_long = false;       // announced by Content-Length
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(bhttp::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
      ec = {};
      body_.too_long = length && *length > body_.limit;
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      ec = {};
      std::size_t total = 0;
      for (auto buffer : beast::buffers_range_ref(buffers)) {
        if (body_.text.size() < body_.excerpt) {
          std::size_t take = std::min(buffer.size(), body_.excerpt - body_.text.size());
          body_.text.append(static_cast<const char*>(buffer.data()), take);
        }
        total += buffer.size();
      }
      body_.seen += total;
      if (body_.seen > body_.limit || (body_.too_long && body_.text.size() >= body_.excerpt)) {
        ec = bhttp::error::body_limit;
      }
      return total;
    }

    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

using ResponseParser = bhttp::response_parser<ExcerptBody>;

// request_head.cpp
std::string format_duration(std::chrono::milliseconds d);
using portico::iequals;  // ASCII case-insensitive equality (portico/http_types.hpp)
// Host without IPv6 brackets, for resolving, SNI and certificate checks.
std::string bare_host(const std::string& host);
// Why the request cannot be sent ("" when it can).
std::string validate(const OutgoingRequest& r);
// Everything before the body: request line, Host, defaults, the caller's headers, blank line.
std::string request_head(const OutgoingRequest& request, const std::string& bare,
                         const ClientOptions& options);
// Whether the request announces a body (Content-Length, Content-Type).
bool sends_body_headers(const OutgoingRequest& request);

struct Connection {
  Connection(asio::any_io_executor executor, ssl::context* tls_context) : ex(std::move(executor)) {
    if (tls_context) {
      tls.emplace(ex, *tls_context);
    } else {
      plain.emplace(ex);
    }
  }

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  template <class F>
  void with_stream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*plain);
    }
  }

  void close() {
    beast::error_code ignored;
    auto& socket = tcp().socket();
    if (socket.is_open()) socket.shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
  }

  // For an idle connection (no operation pending): true when the peer has neither closed it nor
  // sent anything unexpected (an idle HTTP/1.1 connection must be silent).
  bool still_usable() {
    auto& socket = tcp().socket();
    if (!socket.is_open() || buffer.size() != 0) return false;
    char byte;
    ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  asio::any_io_executor ex;  // a strand: every operation on this connection runs on it
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since;
  std::string tls_failure;  // why the verify callback rejected the peer
};

struct Attempt;

struct Pool {
  std::vector<std::shared_ptr<Connection>> idle;  // most recently used last
  std::size_t active = 0;                         // attempts holding a slot
  std::deque<std::shared_ptr<Attempt>> waiting;   // over the concurrency cap
};

}  // namespace portico::http_client::detail

namespace portico::http_client {

struct HttpClient::Impl {
  using Attempt = detail::Attempt;
  using Connection = detail::Connection;
  using Pool = detail::Pool;
  explicit Impl(ClientOptions opts);

  void start_threads();
  void shutdown();

  void launch(const std::shared_ptr<Attempt>& attempt, std::shared_ptr<Connection> conn);
  std::shared_ptr<Connection> take_idle_locked(Pool& pool);
  void release(Attempt& attempt, std::shared_ptr<Connection> reusable);
  void add_live(Attempt* attempt);
  void remove_live(Attempt* attempt);
  void unlink_locked(Attempt* attempt);
  void schedule_sweep();
  void sweep();

  ClientOptions options;
  asio::io_context io;  // declared first: destroyed after everything holding its sockets
  std::optional<ssl::context> tls;
  std::atomic<bool> stopping{false};

  mutable std::mutex pools_mutex;
  std::unordered_map<std::string, Pool> pools;
  std::size_t idle_total = 0;

  std::mutex live_mutex;
  std::condition_variable live_cv;
  Attempt* live_head = nullptr;
  std::atomic<std::size_t> live_count{0};

  asio::strand<asio::io_context::executor_type> sweep_strand;
  asio::steady_timer sweep_timer;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
};

}  // namespace portico::http_client

namespace portico::http_client::detail {

struct Attempt : std::enable_shared_from_this<Attempt> {
  Attempt(HttpClient::Impl& c, OutgoingRequest r, std::function<void(DeliveryResult)> d)
      : client(c), request(std::move(r)), done(std::move(d)), host(bare_host(request.host)) {}
  ~Attempt();

  HttpClient::Impl& client;
  OutgoingRequest request;
  std::function<void(DeliveryResult)> done;
  std::string host;  // without brackets

  // Set under pools_mutex / live_mutex by the client; the rest only on the connection's strand.
  Pool* pool = nullptr;  // non-null while holding (or waiting for) a slot of that pool
  bool has_slot = false;
  asio::any_io_executor ex;  // the strand it runs on, once launched
  Attempt* prev = nullptr;   // the client's list of attempts not yet completed (live_mutex)
  Attempt* next = nullptr;
  bool linked = false;

  std::shared_ptr<Connection> conn;
  bool reused = false;
  bool retried = false;
  bool resolve_timed_out = false;
  Clock::time_point start, deadline;
  std::string head;
  std::optional<ResponseParser> parser;
  std::optional<tcp::resolver> resolver;
  std::optional<asio::steady_timer> resolve_timer;
  std::atomic<bool> finished{false};

  bool tls() const { return request.scheme == "https"; }
  std::string timed_out(const char* phase) const {
    return "timed out after " + format_duration(request.timeout) + " " + phase;
  }

  void begin(std::shared_ptr<Connection> c, bool was_reused);
  // Stops whatever is pending (client shutdown); the handlers then complete with kStopped.
  void abort();
  void connect_new();
  // The SSRF / DNS-rebinding guard: only addresses the policy accepts are tried.
  void on_resolved(std::vector<tcp::endpoint>& endpoints);
  void handshake();
  void send();
  void read();
  void on_read(beast::error_code ec);
  // A pooled connection the peer closed before answering: try once more on a fresh one.
  bool may_retry(const beast::error_code& ec) const;
  void retry();
  void complete(bool reusable);
  void fail(std::string error, bool address_refused = false);
  // Exactly once: hands back the slot (and a reusable connection), then runs the callback.
  void finish(DeliveryResult result, std::shared_ptr<Connection> keep);
};

}  // namespace portico::http_client::detail
