// One request's state machine: an Attempt walks resolve → connect → (TLS handshake) → write → read
// on the strand of the connection it uses, retries once on a fresh connection when a pooled one
// turns out closed, and completes exactly once (finish), handing its slot and a reusable
// connection back to the pool (connection_pool.cpp).
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <array>

#include "lib/http_client/internals.hpp"

namespace portico::http_client::detail {

namespace {

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

}  // namespace

void Attempt::begin(std::shared_ptr<Connection> c, bool was_reused) {
  start = Clock::now();
  deadline = start + request.timeout;
  conn = std::move(c);
  reused = was_reused;
  if (client.stopping) return fail(kStopped);
  if (reused) return send();
  connect_new();
}

void Attempt::abort() {
  if (resolver) resolver->cancel();
  if (resolve_timer) resolve_timer->cancel();
  if (conn) conn->close();
}

void Attempt::connect_new() {
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

void Attempt::on_resolved(std::vector<tcp::endpoint>& endpoints) {
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

void Attempt::handshake() {
  auto& stream = *conn->tls;
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec && !SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
    return fail("TLS: cannot set SNI for " + host);
  }
  stream.set_verify_mode(ssl::verify_peer);
  stream.set_verify_callback([c = conn.get(), check = ssl::host_name_verification(host), h = host](
                                 bool preverified, ssl::verify_context& ctx) {
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

void Attempt::send() {
  if (head.empty()) head = request_head(request, host, client.options);
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

void Attempt::read() {
  parser.emplace();
  parser->header_limit(kHeaderLimit);
  parser->body_limit(boost::none);  // ExcerptBody enforces max_response_body
  parser->get().body().limit = client.options.max_response_body;
  parser->get().body().excerpt = client.options.body_excerpt;
  if (request.method == "HEAD") parser->skip(true);  // a HEAD answer has no body
  conn->with_stream([&](auto& stream) {
    bhttp::async_read(
        stream, conn->buffer, *parser,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  });
}

void Attempt::on_read(beast::error_code ec) {
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
  bool reusable = request.keep_alive && parser->get().keep_alive() && !parser->need_eof() &&
                  status != 101 && conn->buffer.size() == 0;
  complete(reusable);
}

bool Attempt::may_retry(const beast::error_code& ec) const {
  return reused && !retried && peer_closed(ec) && (!parser || !parser->got_some()) &&
         conn->buffer.size() == 0 && Clock::now() < deadline;
}

void Attempt::retry() {
  retried = true;
  reused = false;
  conn->close();
  conn = std::make_shared<Connection>(conn->ex, tls() ? &*client.tls : nullptr);
  connect_new();
}

void Attempt::complete(bool reusable) {
  DeliveryResult result;
  auto& message = parser->get();
  result.status = message.result_int();
  if (auto it = message.find(bhttp::field::retry_after); it != message.end()) {
    result.retry_after = std::string(it->value());
  }
  if (auto it = message.find(bhttp::field::location); it != message.end()) {
    result.location = std::string(it->value());
  }
  if (auto it = message.find(bhttp::field::content_type); it != message.end()) {
    result.content_type = std::string(it->value());
  }
  auto& body = message.body();
  result.body_truncated = body.too_long || body.seen > body.text.size();
  result.body_excerpt = std::move(body.text);
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

void Attempt::fail(std::string error, bool address_refused) {
  if (conn) conn->close();
  DeliveryResult result;
  result.error = std::move(error);
  result.address_refused = address_refused;
  finish(std::move(result), nullptr);
}

void Attempt::finish(DeliveryResult result, std::shared_ptr<Connection> keep) {
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

// Only reached without finish() when the client drops handlers at shutdown.
Attempt::~Attempt() {
  client.remove_live(this);
}

}  // namespace portico::http_client::detail
