// What the endpoint route files (endpoint_routes.cpp: create, list, read, PATCH, DELETE;
// endpoint_actions.cpp: rotate-secret, test, the attempt log) share: the caller's endpoint read
// and written through a session, and the JSON answer with the endpoints' cache rules. Internal to
// routes_webhooks.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "portico/plugin.hpp"
#include "webhook_records.hpp"
#include "webhooks_context.hpp"

namespace portico::routes_webhooks {

inline constexpr const char* kManage = "webhooks:manage";

// The caller's endpoint named in the path, read through `session`, or the 404 (another partner's
// endpoint id answers the same 404 as an id that does not exist).
Endpoint partner_endpoint(Session& session, const Request& request);

// Writes every mutable column of `e` (UPDATE by id).
void write_endpoint(Session& tx, const Endpoint& e);

// `body` with `status`: Cache-Control no-store when it carries a secret, else private, no-cache.
Response json_response(int status, const nlohmann::ordered_json& body, bool secret = false);

// POST /v1/webhooks/{id}/rotate-secret, POST .../test, GET .../deliveries (endpoint_actions.cpp).
std::vector<Route> endpoint_action_routes(WebhooksContext& context);

}  // namespace portico::routes_webhooks
