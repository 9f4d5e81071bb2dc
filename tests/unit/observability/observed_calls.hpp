// Builds what the pipeline hands a RequestObserver, without running the pipeline.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "core/pipeline/request_observer.hpp"
#include "core/pipeline/snapshot.hpp"

namespace portico::observability::sample {

inline pipeline::RouteEntry route_entry(std::string method, std::string path) {
  pipeline::RouteEntry entry;
  entry.route.method = std::move(method);
  entry.route.path = std::move(path);
  entry.owner = "test";
  return entry;
}

struct Call {
  Request request;
  Response response;
  const pipeline::RouteEntry* route = nullptr;
  std::optional<pipeline::ObservedQuota> counted;

  Call(std::string method, std::string path, int status) {
    request.method = std::move(method);
    request.path = std::move(path);
    request.target = request.path;
    request.client_ip = "198.51.100.7";
    request.request_id = "req_test";
    response.status = status;
  }
  Call& on(const pipeline::RouteEntry& entry) {
    route = &entry;
    return *this;
  }
  Call& as(std::string partner, std::string tier, std::string key_id = "key_1") {
    auto who = std::make_shared<Identity>();
    who->partner_id = std::move(partner);
    who->tier = std::move(tier);
    who->credential_id = std::move(key_id);
    who->scheme = "api_key";
    request.identity = who;
    return *this;
  }
  Call& from(std::string ip) {
    request.client_ip = std::move(ip);
    return *this;
  }
  Call& header(std::string name, std::string value) {
    request.headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  // What the tier rate limit counted, as its X-RateLimit-* headers show it.
  Call& quota(std::int64_t limit, std::int64_t remaining, std::int64_t reset_seconds) {
    counted = pipeline::ObservedQuota{limit, remaining, reset_seconds};
    return *this;
  }
  Call& body(std::string text) {
    response.body = std::move(text);
    return *this;
  }
  void to(pipeline::RequestObserver& observer,
          std::chrono::nanoseconds duration = std::chrono::milliseconds(1)) const {
    observer.observe({request, route, response, duration, counted});
  }
};

// A snapshot with the demo tiers and nothing else, for render_metrics.
inline pipeline::Snapshot snapshot_with_tiers() {
  pipeline::Snapshot snapshot;
  auto config = std::make_shared<config::Config>();
  config->tiers["basic"] = {"basic", 100, std::chrono::minutes(1), 0};
  config->tiers["premium"] = {"premium", 1000, std::chrono::minutes(1), 0};
  snapshot.config = config;
  return snapshot;
}

struct FakeSteadyClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  std::function<std::chrono::steady_clock::time_point()> clock() {
    return [this] { return now; };
  }
};

}  // namespace portico::observability::sample
