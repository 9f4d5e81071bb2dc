// lib/http_client: the one outbound HTTP/1.1 client of the tree (Boost.Asio/Beast, OpenSSL), used
// by webhook delivery (plugins/webhook_delivery), the ops webhook (core/observability) and the
// CLI's admin client. One request per call; keep-alive connections are pooled per (pool_key,
// scheme, host, port); every attempt is bounded by its timeout; response headers (16 KiB) and
// bodies (max_response_body) are bounded; TLS peers are verified (chain against the system CAs or
// a CA file, SNI, host name). Redirects are never followed. Beast stays out of this header.
//
// A neutral library (docs/architecture.md "Rooms"): the core and plugins both link
// `portico_http_client`; it includes and links neither. Built like plugin code (hidden symbols,
// PIC, no GNU-unique symbols) because it ends up inside plugin modules that must stay unloadable.
//
// Where the code is: http_client.cpp (this API), connection_pool.cpp (threads, pools, idle sweep,
// shutdown), attempt.cpp (one request's state machine), request_head.cpp (validation and the
// request head), internals.hpp (the types they share).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace portico::http_client {

struct OutgoingRequest {
  std::string method = "POST";   // an HTTP token: GET, POST, PUT, PATCH, DELETE, ...
  std::string scheme = "https";  // "http" or "https"
  std::string host;              // DNS name or IP literal (IPv6 with or without brackets)
  std::string target = "/";      // path and query, sent as is
  std::uint16_t port = 443;
  // Sent after Host, User-Agent, Content-Type and Content-Length. A User-Agent or Content-Type here
  // replaces the default; Host, Content-Length, Transfer-Encoding and Connection are ignored. Names
  // and values containing CR, LF or NUL make the request fail without being sent.
  // Content-Type (default application/json) and Content-Length are sent unless the body is empty
  // and the method is neither POST, PUT nor OPTIONS (as Beast's prepare_payload does).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The whole attempt — resolve, connect, TLS handshake, write, read — must finish within this.
  std::chrono::milliseconds timeout{15000};
  // Connections are reused per (pool_key, scheme, host, port); use the endpoint id so one slow
  // endpoint's connections (and concurrency cap) are its own.
  std::string pool_key;
  // false: sends "Connection: close" and closes the connection after the answer (never pooled).
  bool keep_alive = true;
};

struct DeliveryResult {
  int status = 0;     // 0 = no HTTP answer
  std::string error;  // empty when an HTTP answer arrived
  std::optional<std::string> retry_after, location, content_type;
  // The first ClientOptions::body_excerpt bytes of the response body (1 KiB by default).
  std::string body_excerpt;
  bool body_truncated = false;  // the body was longer than body_excerpt or max_response_body
  std::chrono::milliseconds latency{};
  bool connection_reused = false;  // the answer came over a pooled keep-alive connection
  // refuse_address refused every address of the host: `error` holds its reason, which names the
  // addresses (for the operator log; the caller decides what a partner sees).
  bool address_refused = false;
};

struct ClientOptions {
  int threads = 1;
  // PEM file of trusted CAs; replaces the system store (set_default_verify_paths) when set.
  std::optional<std::string> ca_file;
  std::string user_agent = "Portico-Webhooks/1.0";
  std::size_t max_idle_per_pool = 8;
  std::chrono::seconds idle_timeout{30};
  // At most this many requests of one pool on the wire at once (0 = no cap); the rest wait in
  // order, and their timeout starts when they leave the queue.
  std::size_t max_concurrency_per_pool = 0;
  // Called with every resolved address (IPv4-mapped IPv6 shown as IPv4) before connecting; returns
  // a reason to refuse it (SSRF / DNS-rebinding guard) or nullopt. Called on client threads.
  std::function<std::optional<std::string>(const std::string& ip)> refuse_address;
  std::size_t max_response_body = 64 * 1024;  // larger bodies: status kept, connection closed
  std::size_t body_excerpt = 1024;            // response body bytes kept in body_excerpt
};

class HttpClient {
 public:
  // Throws std::runtime_error when the CA file cannot be loaded.
  explicit HttpClient(ClientOptions options);
  // Stops: completes outstanding callbacks with error "client stopped" and joins the threads.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Never blocks; thread-safe. `done` runs exactly once, on a client thread (or inline on the
  // caller's thread when the client is already stopping).
  void post(OutgoingRequest request, std::function<void(DeliveryResult)> done);

  // post() and wait for the result: for callers with a thread of their own (the ops webhook's
  // sender, the CLI). Never call it from a `done` callback or anything else on a client thread.
  DeliveryResult send(OutgoingRequest request);

  // Posted and not yet completed (queued ones included); 0 once every callback has been called.
  std::size_t in_flight() const;
  std::size_t idle_connections() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::http_client
