// The webhook HTTP client: an Attempt walks resolve → connect → (TLS handshake) → write → read on
// the strand of the connection it uses; connections live in per-pool idle lists between attempts.
//
// Locking: `pools_mutex` guards the pools (idle lists, active counts, queues) and `live_mutex` the
// list of attempts not yet completed; both are held only for a few pointer moves, never during I/O.
#include "plugins/webhook_delivery/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <array>
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
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace portico::webhooks {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kExcerptBytes = 1024;
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr const char* kStopped = "client stopped";

// A response body that keeps the first KiB and counts the rest. Past `limit` it fails with
// body_limit — as soon as the excerpt is complete when Content-Length already says so — and that is
// checked here rather than by the parser so the header is always complete when it happens.
struct ExcerptBody {
  struct value_type {
    std::string text;
    std::uint64_t limit = 0;
    std::uint64_t seen = 0;
    bool too_long = false;  // announced by Content-Length
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
        if (body_.text.size() < kExcerptBytes) {
          std::size_t take = std::min(buffer.size(), kExcerptBytes - body_.text.size());
          body_.text.append(static_cast<const char*>(buffer.data()), take);
        }
        total += buffer.size();
      }
      body_.seen += total;
      if (body_.seen > body_.limit || (body_.too_long && body_.text.size() >= kExcerptBytes)) {
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

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms >= 1000 && ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Host without IPv6 brackets, for resolving, SNI and certificate checks.
std::string bare_host(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::string validate(const OutgoingRequest& r) {
  if (r.scheme != "http" && r.scheme != "https") {
    return "unsupported scheme '" + r.scheme + "' (only http and https)";
  }
  if (bare_host(r.host).empty()) return "no host";
  for (char c : r.host) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '/' || c == '@') {
      return "invalid host";
    }
  }
  if (r.port == 0) return "no port";
  if (r.target.empty() || r.target.front() != '/') return "the target must start with '/'";
  for (char c : r.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return "invalid character in target";
  }
  for (const auto& [name, value] : r.headers) {
    if (name.empty()) return "empty header name";
    for (char c : name) {
      if (!is_token_char(c)) return "invalid header name '" + name + "'";
    }
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') return "invalid value for header '" + name + "'";
    }
  }
  return {};
}

// Network failures where a pooled connection was simply closed by the peer meanwhile.
bool peer_closed(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

std::string printable_address(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

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

}  // namespace

struct HttpClient::Impl {
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

namespace {

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

  void begin(std::shared_ptr<Connection> c, bool was_reused) {
    start = Clock::now();
    deadline = start + request.timeout;
    conn = std::move(c);
    reused = was_reused;
    if (client.stopping) return fail(kStopped);
    if (reused) return send();
    connect_new();
  }

  // Stops whatever is pending (client shutdown); the handlers then complete with kStopped.
  void abort() {
    if (resolver) resolver->cancel();
    if (resolve_timer) resolve_timer->cancel();
    if (conn) conn->close();
  }

  void connect_new() {
    if (client.stopping) return fail(kStopped);
    beast::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (!ec) {
      std::vector<tcp::endpoint> endpoints{tcp::endpoint(address, request.port)};
      return on_resolved(endpoints);
    }
    resolver.emplace(conn->ex);
    resolve_timer.emplace(conn->ex);
    resolve_timed_out = false;
    resolve_timer->expires_at(deadline);
    resolve_timer->async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (wait_ec) return;
      self->resolve_timed_out = true;
      self->resolver->cancel();
    });
    resolver->async_resolve(
        host, std::to_string(request.port),
        [self = shared_from_this()](beast::error_code rec, tcp::resolver::results_type results) {
          self->resolve_timer->cancel();
          if (self->client.stopping) return self->fail(kStopped);
          if (self->resolve_timed_out) return self->fail(self->timed_out("resolving the host"));
          if (rec) return self->fail("cannot resolve " + self->host + ": " + rec.message());
          std::vector<tcp::endpoint> endpoints;
          endpoints.reserve(results.size());
          for (const auto& entry : results) endpoints.push_back(entry.endpoint());
          self->on_resolved(endpoints);
        });
  }

  // The SSRF / DNS-rebinding guard: only addresses the policy accepts are tried.
  void on_resolved(std::vector<tcp::endpoint>& endpoints) {
    if (client.options.refuse_address) {
      std::string first_refusal;
      std::vector<tcp::endpoint> allowed;
      allowed.reserve(endpoints.size());
      for (const auto& endpoint : endpoints) {
        std::string ip = printable_address(endpoint.address());
        std::optional<std::string> reason;
        try {
          reason = client.options.refuse_address(ip);
        } catch (const std::exception& e) {
          reason = std::string("address check failed: ") + e.what();
        }
        if (!reason) {
          allowed.push_back(endpoint);
        } else if (first_refusal.empty()) {
          first_refusal = "refused to connect to " + host + " (" + ip + "): " + *reason;
        }
      }
      if (allowed.empty()) {
        if (first_refusal.empty()) return fail("no address for " + host);
        return fail(std::move(first_refusal), /*address_refused=*/true);
      }
      endpoints.swap(allowed);
    }
    if (endpoints.empty()) return fail("no address for " + host);
    conn->tcp().expires_at(deadline);
    conn->tcp().async_connect(
        endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          if (self->client.stopping) return self->fail(kStopped);
          if (ec == beast::error::timeout) return self->fail(self->timed_out("connecting"));
          if (ec) {
            return self->fail("cannot connect to " + self->host + ":" +
                              std::to_string(self->request.port) + ": " + ec.message());
          }
          beast::error_code ignored;
          self->conn->tcp().socket().set_option(tcp::no_delay(true), ignored);
          if (self->tls()) return self->handshake();
          self->send();
        });
  }

  void handshake() {
    auto& stream = *conn->tls;
    beast::error_code ec;
    asio::ip::make_address(host, ec);
    if (ec && !SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
      return fail("TLS: cannot set SNI for " + host);
    }
    stream.set_verify_mode(ssl::verify_peer);
    stream.set_verify_callback([c = conn.get(), check = ssl::host_name_verification(host),
                                h = host](bool preverified, ssl::verify_context& ctx) {
      if (!preverified) {
        if (c->tls_failure.empty()) {
          int error = X509_STORE_CTX_get_error(ctx.native_handle());
          c->tls_failure =
              std::string("certificate verify failed: ") + X509_verify_cert_error_string(error);
        }
        return false;
      }
      if (check(preverified, ctx)) return true;
      if (c->tls_failure.empty()) {
        c->tls_failure =
            "certificate verify failed: the certificate does not match host name '" + h + "'";
      }
      return false;
    });
    conn->tcp().expires_at(deadline);
    stream.async_handshake(ssl::stream_base::client,
                           [self = shared_from_this()](beast::error_code hec) {
                             if (self->client.stopping) return self->fail(kStopped);
                             if (hec == beast::error::timeout)
                               return self->fail(self->timed_out("in the TLS handshake"));
                             if (hec) {
                               const std::string& why = self->conn->tls_failure;
                               return self->fail("TLS handshake with " + self->host +
                                                 " failed: " + (why.empty() ? hec.message() : why));
                             }
                             self->send();
                           });
  }

  void build_head() {
    const auto& o = client.options;
    bool custom_agent = false, custom_type = false;
    std::size_t size = 128 + request.target.size() + request.host.size() + o.user_agent.size();
    for (const auto& [name, value] : request.headers) {
      size += name.size() + value.size() + 4;
      custom_agent = custom_agent || iequals(name, "user-agent");
      custom_type = custom_type || iequals(name, "content-type");
    }
    head.reserve(size);
    head.append("POST ").append(request.target).append(" HTTP/1.1\r\nHost: ");
    if (host.find(':') != std::string::npos) {
      head.append("[").append(host).append("]");
    } else {
      head.append(host);
    }
    if (request.port != (tls() ? 443 : 80)) head.append(":").append(std::to_string(request.port));
    head.append("\r\n");
    if (!custom_agent) head.append("User-Agent: ").append(o.user_agent).append("\r\n");
    if (!custom_type) head.append("Content-Type: application/json\r\n");
    head.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
    for (const auto& [name, value] : request.headers) {
      if (iequals(name, "host") || iequals(name, "content-length") ||
          iequals(name, "transfer-encoding") || iequals(name, "connection")) {
        continue;
      }
      head.append(name).append(": ").append(value).append("\r\n");
    }
    head.append("\r\n");
  }

  void send() {
    if (head.empty()) build_head();
    conn->tcp().expires_at(deadline);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(request.body)};
    conn->with_stream([&](auto& stream) {
      asio::async_write(stream, buffers,
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (self->client.stopping) return self->fail(kStopped);
                          if (ec == beast::error::timeout) {
                            return self->fail(self->timed_out("sending the request"));
                          }
                          if (ec && self->may_retry(ec)) return self->retry();
                          if (ec) return self->fail("cannot send the request: " + ec.message());
                          self->read();
                        });
    });
  }

  void read() {
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    parser->body_limit(boost::none);  // ExcerptBody enforces max_response_body
    parser->get().body().limit = client.options.max_response_body;
    conn->with_stream([&](auto& stream) {
      bhttp::async_read(
          stream, conn->buffer, *parser,
          [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    });
  }

  void on_read(beast::error_code ec) {
    if (client.stopping) return fail(kStopped);
    if (ec == bhttp::error::body_limit && parser->is_header_done()) {
      return complete(false);  // the status counts; the rest of the body is not worth reading
    }
    if (ec == beast::error::timeout) return fail(timed_out("waiting for the response"));
    if (ec && may_retry(ec)) return retry();
    if (ec == bhttp::error::end_of_stream) return fail("the connection closed without a response");
    if (ec) {
      return fail(std::string(parser->got_some() ? "bad response: " : "no response: ") +
                  ec.message());
    }
    int status = parser->get().result_int();
    if (status >= 100 && status < 200 && status != 101) return read();  // interim response
    bool reusable = parser->get().keep_alive() && !parser->need_eof() && status != 101 &&
                    conn->buffer.size() == 0;
    complete(reusable);
  }

  // A pooled connection the peer closed before answering: try once more on a fresh one.
  bool may_retry(const beast::error_code& ec) const {
    return reused && !retried && peer_closed(ec) && (!parser || !parser->got_some()) &&
           conn->buffer.size() == 0 && Clock::now() < deadline;
  }

  void retry() {
    retried = true;
    reused = false;
    conn->close();
    conn = std::make_shared<Connection>(conn->ex, tls() ? &*client.tls : nullptr);
    connect_new();
  }

  void complete(bool reusable) {
    DeliveryResult result;
    auto& message = parser->get();
    result.status = message.result_int();
    if (auto it = message.find(bhttp::field::retry_after); it != message.end()) {
      result.retry_after = std::string(it->value());
    }
    if (auto it = message.find(bhttp::field::location); it != message.end()) {
      result.location = std::string(it->value());
    }
    result.body_excerpt = std::move(message.body().text);
    parser.reset();
    std::shared_ptr<Connection> keep;
    if (reusable) {
      conn->tcp().expires_never();
      keep = conn;
    } else {
      conn->close();
    }
    finish(std::move(result), std::move(keep));
  }

  void fail(std::string error, bool address_refused = false) {
    if (conn) conn->close();
    DeliveryResult result;
    result.error = std::move(error);
    result.address_refused = address_refused;
    finish(std::move(result), nullptr);
  }

  // Exactly once: hands back the slot (and a reusable connection), then runs the callback.
  void finish(DeliveryResult result, std::shared_ptr<Connection> keep) {
    if (finished.exchange(true)) {
      if (keep) keep->close();
      return;
    }
    if (client.stopping && !result.error.empty()) {
      result.error = kStopped;
      result.status = 0;
      result.address_refused = false;
    }
    if (start != Clock::time_point{}) {
      result.latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    }
    result.connection_reused = reused && result.status != 0;
    conn.reset();
    if (has_slot) {
      client.release(*this, std::move(keep));
    } else if (keep) {
      keep->close();
    }
    auto callback = std::move(done);
    done = nullptr;
    client.remove_live(this);  // completed from here on, as far as in_flight() is concerned
    if (callback) {
      try {
        callback(std::move(result));
      } catch (...) {
        // A throwing callback must not take a client thread down.
      }
    }
  }
};

// Only reached without finish() when the client drops handlers at shutdown.
Attempt::~Attempt() {
  client.remove_live(this);
}

}  // namespace

HttpClient::Impl::Impl(ClientOptions opts)
    : options(std::move(opts)), sweep_strand(asio::make_strand(io)), sweep_timer(sweep_strand) {
  if (options.threads < 1) options.threads = 1;
  tls.emplace(ssl::context::tls_client);
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  tls->set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  if (options.ca_file) {
    tls->load_verify_file(*options.ca_file, ec);
    if (ec) {
      throw std::runtime_error("cannot load the CA file '" + *options.ca_file +
                               "': " + ec.message());
    }
  } else {
    tls->set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("cannot use the system CA store: " + ec.message());
  }
}

void HttpClient::Impl::start_threads() {
  work.emplace(io.get_executor());
  schedule_sweep();
  threads.reserve(static_cast<std::size_t>(options.threads));
  for (int i = 0; i < options.threads; ++i) {
    threads.emplace_back([this] {
      for (;;) {
        try {
          io.run();
          return;
        } catch (...) {
          // keep serving; a handler threw
        }
      }
    });
  }
}

void HttpClient::Impl::schedule_sweep() {
  auto period = std::chrono::milliseconds(1000);
  auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(options.idle_timeout);
  if (idle < period) period = std::max(idle, std::chrono::milliseconds(50));
  sweep_timer.expires_after(period);
  sweep_timer.async_wait([this](beast::error_code ec) {
    if (ec || stopping) return;
    sweep();
    schedule_sweep();
  });
}

// Closes idle connections that expired or that the peer closed, and forgets unused pools.
void HttpClient::Impl::sweep() {
  std::vector<std::shared_ptr<Connection>> dead;
  auto now = Clock::now();
  {
    std::lock_guard lock(pools_mutex);
    for (auto it = pools.begin(); it != pools.end();) {
      auto& idle = it->second.idle;
      for (auto& conn : idle) {
        if (now - conn->idle_since >= options.idle_timeout || !conn->still_usable()) {
          dead.push_back(std::move(conn));
        }
      }
      std::size_t before = idle.size();
      std::erase(idle, nullptr);
      idle_total -= before - idle.size();
      if (idle.empty() && it->second.active == 0 && it->second.waiting.empty()) {
        it = pools.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& conn : dead) conn->close();
}

std::shared_ptr<Connection> HttpClient::Impl::take_idle_locked(Pool& pool) {
  auto now = Clock::now();
  while (!pool.idle.empty()) {
    auto conn = std::move(pool.idle.back());
    pool.idle.pop_back();
    --idle_total;
    if (now - conn->idle_since < options.idle_timeout && conn->still_usable()) return conn;
    conn->close();
  }
  return nullptr;
}

void HttpClient::Impl::launch(const std::shared_ptr<Attempt>& attempt,
                              std::shared_ptr<Connection> conn) {
  bool reused = conn != nullptr;
  if (!conn) {
    conn = std::make_shared<Connection>(asio::make_strand(io), attempt->tls() ? &*tls : nullptr);
  }
  {
    std::lock_guard lock(live_mutex);
    attempt->ex = conn->ex;
  }
  auto ex = conn->ex;
  asio::post(ex, [attempt, conn = std::move(conn), reused]() mutable {
    attempt->begin(std::move(conn), reused);
  });
}

void HttpClient::Impl::release(Attempt& attempt, std::shared_ptr<Connection> reusable) {
  std::shared_ptr<Connection> to_close;
  std::shared_ptr<Attempt> next;
  std::shared_ptr<Connection> next_conn;
  {
    std::lock_guard lock(pools_mutex);
    Pool& pool = *attempt.pool;
    attempt.has_slot = false;
    attempt.pool = nullptr;
    if (reusable) {
      if (!stopping && pool.idle.size() < options.max_idle_per_pool) {
        reusable->idle_since = Clock::now();
        pool.idle.push_back(std::move(reusable));
        ++idle_total;
      } else {
        to_close = std::move(reusable);
      }
    }
    --pool.active;
    std::size_t cap = options.max_concurrency_per_pool;
    if (!stopping && !pool.waiting.empty() && (cap == 0 || pool.active < cap)) {
      next = std::move(pool.waiting.front());
      pool.waiting.pop_front();
      next->has_slot = true;
      ++pool.active;
      next_conn = take_idle_locked(pool);
    }
  }
  if (to_close) to_close->close();
  if (next) launch(next, std::move(next_conn));
}

void HttpClient::Impl::add_live(Attempt* attempt) {
  std::lock_guard lock(live_mutex);
  attempt->next = live_head;
  if (live_head) live_head->prev = attempt;
  live_head = attempt;
  attempt->linked = true;
  live_count.fetch_add(1);
}

void HttpClient::Impl::remove_live(Attempt* attempt) {
  std::lock_guard lock(live_mutex);
  unlink_locked(attempt);
}

void HttpClient::Impl::unlink_locked(Attempt* attempt) {
  if (!attempt->linked) return;
  attempt->linked = false;
  if (attempt->prev) attempt->prev->next = attempt->next;
  if (attempt->next) attempt->next->prev = attempt->prev;
  if (live_head == attempt) live_head = attempt->next;
  attempt->prev = attempt->next = nullptr;
  if (live_count.fetch_sub(1) == 1) live_cv.notify_all();
}

void HttpClient::Impl::shutdown() {
  stopping = true;
  // Queued attempts and idle connections.
  std::vector<std::shared_ptr<Attempt>> queued;
  std::vector<std::shared_ptr<Connection>> idle;
  {
    std::lock_guard lock(pools_mutex);
    for (auto& [key, pool] : pools) {
      for (auto& a : pool.waiting) {
        a->pool = nullptr;
        queued.push_back(std::move(a));
      }
      pool.waiting.clear();
      for (auto& c : pool.idle) idle.push_back(std::move(c));
      pool.idle.clear();
    }
    idle_total = 0;
  }
  for (auto& c : idle) c->close();
  for (auto& a : queued) {
    asio::post(io, [a] {
      DeliveryResult result;
      result.error = kStopped;
      a->finish(std::move(result), nullptr);
    });
  }
  // Attempts on the wire: close their sockets on their strands.
  {
    std::lock_guard lock(live_mutex);
    for (Attempt* a = live_head; a; a = a->next) {
      if (!a->ex) continue;  // queued (handled above) or about to begin (sees `stopping`)
      if (auto self = a->weak_from_this().lock()) {
        asio::post(a->ex, [self] { self->abort(); });
      }
    }
  }
  asio::post(sweep_strand, [this] { sweep_timer.cancel(); });
  {
    // A resolve stuck in getaddrinfo cannot be interrupted; don't wait for it for long.
    std::unique_lock lock(live_mutex);
    live_cv.wait_for(lock, std::chrono::seconds(2), [this] { return live_count.load() == 0; });
  }
  work.reset();
  if (live_count.load() != 0) io.stop();
  for (auto& t : threads) t.join();
  threads.clear();
  // Whatever is still pending never got to run its handlers: complete it here.
  for (;;) {
    std::shared_ptr<Attempt> a;
    {
      std::lock_guard lock(live_mutex);
      if (!live_head) break;
      a = live_head->weak_from_this().lock();
      if (!a) {
        unlink_locked(live_head);  // being destroyed; its destructor finds it unlinked
        continue;
      }
    }
    DeliveryResult result;
    result.error = kStopped;
    a->finish(std::move(result), nullptr);
    remove_live(a.get());  // in case it had finished already
  }
  std::lock_guard lock(pools_mutex);
  for (auto& [key, pool] : pools) {
    for (auto& c : pool.idle) c->close();
  }
  pools.clear();
}

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->start_threads();
}

HttpClient::~HttpClient() {
  impl_->shutdown();
}

void HttpClient::post(OutgoingRequest request, std::function<void(DeliveryResult)> done) {
  Impl& c = *impl_;
  if (c.stopping) {
    DeliveryResult result;
    result.error = kStopped;
    if (done) done(std::move(result));
    return;
  }
  std::string invalid = validate(request);
  auto attempt = std::make_shared<Attempt>(c, std::move(request), std::move(done));
  c.add_live(attempt.get());
  if (!invalid.empty()) {
    asio::post(c.io, [attempt, invalid = std::move(invalid)]() mutable {
      DeliveryResult result;
      result.error = "invalid request: " + invalid;
      attempt->finish(std::move(result), nullptr);
    });
    return;
  }
  const auto& r = attempt->request;
  std::string key;
  key.reserve(r.pool_key.size() + r.scheme.size() + r.host.size() + 10);
  key.append(r.pool_key).append("\n").append(r.scheme).append("\n").append(r.host).append("\n");
  key.append(std::to_string(r.port));
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(c.pools_mutex);
    Pool& pool = c.pools[key];
    attempt->pool = &pool;
    std::size_t cap = c.options.max_concurrency_per_pool;
    if (cap != 0 && pool.active >= cap) {
      pool.waiting.push_back(attempt);
      return;
    }
    attempt->has_slot = true;
    ++pool.active;
    conn = c.take_idle_locked(pool);
  }
  c.launch(attempt, std::move(conn));
}

std::size_t HttpClient::in_flight() const {
  return impl_->live_count.load();
}

std::size_t HttpClient::idle_connections() const {
  std::lock_guard lock(impl_->pools_mutex);
  return impl_->idle_total;
}

}  // namespace portico::webhooks
