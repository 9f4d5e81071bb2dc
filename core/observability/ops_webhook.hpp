// The optional ops webhook: each anomaly POSTed as a JSON event to an operator's URL, signed like
// partner webhooks (Standard Webhooks: webhook-id, webhook-timestamp and
// webhook-signature "v1,<base64 HMAC-SHA256 over id.timestamp.body>", key = the decoded whsec_
// secret). Plain http:// only in this version (put a relay in front for https). Posted from a
// thread of its own, so neither a request nor the detector waits on the network.
//
// It has no HTTP or signing code of its own: it sends with the shared outbound client
// (lib/http_client: one connection per event, "Connection: close", the timeout bounding the whole
// exchange) and signs with the shared Standard Webhooks signer (lib/webhook_signing).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "lib/http_client/http_client.hpp"

namespace portico::observability {

struct HttpTarget {
  std::string host;
  std::uint16_t port = 80;
  std::string path = "/";
};
// "http://host[:port][/path]"; nullopt for anything else (https included).
std::optional<HttpTarget> parse_http_url(std::string_view url);

// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" with key = base64-decoded part of
// "whsec_<base64>" (webhooks::sign_v1; any non-empty key, as operators' secrets always were).
// Throws std::invalid_argument for a malformed secret.
std::string webhook_signature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                              std::string_view body);

class OpsWebhook {
 public:
  using Warn = std::function<void(const std::string&)>;
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  // Throws std::invalid_argument naming the problem for a URL that is not http:// or a secret
  // that is not whsec_<base64>. An empty secret sends unsigned events.
  OpsWebhook(std::string url, std::string secret, Warn warn,
             std::chrono::milliseconds timeout = std::chrono::seconds(5),
             WallClock clock = std::chrono::system_clock::now);
  ~OpsWebhook();  // stops the sender; what is still queued is dropped
  OpsWebhook(const OpsWebhook&) = delete;
  OpsWebhook& operator=(const OpsWebhook&) = delete;

  // Queues `type` with `data_object` (JSON text) as data.object; the oldest waiting event is
  // dropped when 100 already wait.
  void send(std::string type, std::string data_object);

  std::uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  void run();
  bool post(const std::string& id, const std::string& body);

  HttpTarget target_;
  std::string secret_;
  Warn warn_;
  std::chrono::milliseconds timeout_;
  WallClock clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  struct Event {
    std::string id;
    std::string body;
  };
  std::deque<Event> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failed_{0};
  // The shared outbound client, used by the sender thread only.
  std::unique_ptr<http_client::HttpClient> client_;
  std::thread sender_;  // last: started once everything above exists
};

}  // namespace portico::observability
