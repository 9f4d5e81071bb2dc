// What the route handlers of routes_webhooks share, built once in init() and owned by the plugin
// (which outlives every route it hands out). The route sets are defined in endpoint_routes.cpp
// and endpoint_actions.cpp (/v1/webhooks...) and event_routes.cpp (/v1/events...).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "portico/host.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/cursor.hpp"
#include "portico/sdk/sodium.hpp"
#include "portico/sdk/time.hpp"

namespace portico::routes_webhooks {

struct WebhooksSettings {
  // Admit loopback, private, link-local and reserved targets at creation (tests, internal
  // receivers). The delivery plugin checks its own identically named key at delivery time.
  bool allow_private_targets = false;
  std::int64_t max_endpoints_per_partner = 16;
};

struct WebhooksContext {
  WebhooksContext(Host& host_in, const std::string& cursor_key, WebhooksSettings settings_in)
      : host(host_in),
        db(host_in.database()),
        outbox(host_in.outbox()),
        cursors([cursor_key](std::string_view message) {
          return sdk::hmac_sha256(cursor_key, message);
        }),
        settings(settings_in) {}

  // Now, as this plugin stores and shows it: fixed-width RFC 3339 UTC with milliseconds.
  std::string now() const { return sdk::format_timestamp(host.now()); }
  // Now in Unix milliseconds (webhook_deliveries.next_attempt_at).
  std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(host.now().time_since_epoch())
        .count();
  }

  Host& host;
  Database& db;
  Outbox& outbox;
  sdk::CursorCodec cursors;
  WebhooksSettings settings;
};

// The caller's partner id (every route here is authenticated).
inline const std::string& partner_of(const Request& request) {
  if (!request.identity) {
    throw ProblemError(Problem{
        401, "unauthorized", "Unauthorized", "This route needs a partner's credentials.", {}, {}});
  }
  return request.identity->partner_id;
}

// POST/GET /v1/webhooks, GET/PATCH/DELETE /v1/webhooks/{id}, POST .../rotate-secret, POST
// .../test, GET .../deliveries (scope webhooks:manage).
std::vector<Route> endpoint_routes(WebhooksContext& context);
// GET /v1/events, GET /v1/events/{id} (events:read), POST /v1/events/{id}/redeliver
// (webhooks:manage).
std::vector<Route> event_routes(WebhooksContext& context);

}  // namespace portico::routes_webhooks
