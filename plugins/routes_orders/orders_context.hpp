// What the route handlers of routes_orders share, built once in init() and owned by the plugin
// (which outlives every route it hands out). The route sets are defined in create_route.cpp
// (POST /v1/orders), partner_routes.cpp (reads, PATCH, shipment) and admin_routes.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "order_plan.hpp"
#include "portico/host.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/cursor.hpp"
#include "portico/sdk/sodium.hpp"
#include "portico/sdk/time.hpp"

namespace portico::routes_orders {

struct OrdersSettings {
  // How long an Idempotency-Key and its stored answer are kept (the contract: at least 24 h).
  std::chrono::milliseconds idempotency_retention = std::chrono::hours(24);
};

// Idempotency keys whose first request is being processed right now in this process: a second
// request with the same key meanwhile answers 409. Claimed for the length of one request.
class InFlightKeys {
 public:
  bool try_claim(const std::string& key) {
    std::lock_guard lock(mutex_);
    return keys_.insert(key).second;
  }
  void release(const std::string& key) {
    std::lock_guard lock(mutex_);
    keys_.erase(key);
  }

 private:
  std::mutex mutex_;
  std::unordered_set<std::string> keys_;
};

struct OrdersContext {
  OrdersContext(Host& host_in, const std::string& cursor_key, OrdersSettings settings_in)
      : host(host_in),
        db(host_in.database()),
        outbox(host_in.outbox()),
        cursors([cursor_key](std::string_view message) {
          return sdk::hmac_sha256(cursor_key, message);
        }),
        settings(settings_in) {}

  // Now, as stored and shown: fixed-width RFC 3339 UTC with milliseconds.
  std::string now() const { return sdk::format_timestamp(host.now()); }

  Host& host;
  Database& db;
  Outbox& outbox;
  sdk::CursorCodec cursors;
  OrdersSettings settings;
  InFlightKeys in_flight;
  RecentPrices recent_prices;  // what orders are rendered from before their transaction
};

// POST /v1/orders (scope orders:write).
std::vector<Route> create_routes(OrdersContext& context);
// GET /v1/orders, GET /v1/orders/{id}, GET /v1/orders/{id}/shipment (orders:read),
// PATCH /v1/orders/{id} (orders:write).
std::vector<Route> partner_routes(OrdersContext& context);
// POST /admin/v1/orders/{id}/status, POST /admin/v1/orders/{id}/shipment.
std::vector<Route> admin_routes(OrdersContext& context);

// Deletes idempotency records older than the retention; returns how many. Run by the plugin's
// service thread every minute.
std::int64_t prune_idempotency_keys(OrdersContext& context);

}  // namespace portico::routes_orders
