// The public face of the client (http_client.hpp): post() validates a request, files it under
// its pool (or queues it over the pool's concurrency cap) and launches it; send() waits for it.
#include <future>

#include "lib/http_client/internals.hpp"

namespace portico::http_client {
using namespace detail;

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

DeliveryResult HttpClient::send(OutgoingRequest request) {
  std::promise<DeliveryResult> promise;
  auto answer = promise.get_future();
  post(std::move(request),
       [&promise](DeliveryResult result) { promise.set_value(std::move(result)); });
  return answer.get();
}

}  // namespace portico::http_client
