// The endpoint actions (scope webhooks:manage): rotate-secret (the new secret is shown only
// here; the old one keeps signing for 24 h), test (a webhook.test event through the outbox) and
// the attempt log (GET /v1/webhooks/{id}/deliveries). Every route sees only the caller's own
// endpoints. Create, list, read, PATCH and DELETE are in endpoint_routes.cpp.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "endpoint_access.hpp"
#include "endpoint_input.hpp"
#include "event_query.hpp"
#include "lib/webhook_signing/signing.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/query.hpp"
#include "portico/sdk/routes.hpp"
#include "portico/sdk/time.hpp"
#include "webhook_records.hpp"
#include "webhooks_common/event_types.hpp"
#include "webhooks_context.hpp"

namespace portico::routes_webhooks {
namespace {

constexpr auto kPreviousSecretLifetime = std::chrono::hours(24);

// --- POST /v1/webhooks/{id}/rotate-secret -------------------------------------------------------

Response rotate_secret(WebhooksContext& context, const Request& request) {
  const std::string secret = webhooks::generate_secret();
  const std::string sealed = context.host.seal_secret(secret);
  const std::string now = context.now();
  const std::string expires = sdk::format_timestamp(context.host.now() + kPreviousSecretLifetime);
  context.db.transaction([&](Session& tx) {
    Endpoint endpoint = partner_endpoint(tx, request);
    // The current secret keeps signing alongside for 24 h; a previous one still inside its own
    // window is dropped (only two secrets sign at a time). Both stay sealed as stored.
    endpoint.previous_secret = endpoint.secret;
    endpoint.previous_secret_expires_at = expires;
    endpoint.secret = sealed;
    endpoint.updated_at = now;
    write_endpoint(tx, endpoint);
  });
  nlohmann::ordered_json body;
  body["secret"] = secret;
  body["previous_secret_expires_at"] = expires;
  return json_response(200, body, true);
}

// --- POST /v1/webhooks/{id}/test ----------------------------------------------------------------

Response send_test(WebhooksContext& context, const Request& request) {
  std::string event_id;
  context.db.transaction([&](Session& tx) {
    const Endpoint endpoint = partner_endpoint(tx, request);
    if (endpoint.status != kEnabled) {
      throw sdk::conflict("endpoint_disabled",
                          "Webhook endpoint " + endpoint.id +
                              " is disabled, so a test event would not be sent. Enable it with "
                              "PATCH {\"status\": \"enabled\"} first.");
    }
    // The delivery plugin sends webhook.test only to the endpoint named in the subject, whatever
    // the filters of this or any other endpoint.
    nlohmann::json object = {
        {"endpoint_id", endpoint.id},
        {"message", "This is a test event from Portico for webhook endpoint " + endpoint.id +
                        ", sent at your request. Answer with any 2xx status within 15 seconds."}};
    event_id =
        context.outbox.append(tx, Event{std::string(webhooks::kTestEventType), endpoint.partner_id,
                                        endpoint.id, std::move(object), nullptr});
  });
  nlohmann::ordered_json body;
  body["event_id"] = event_id;
  return json_response(202, body);
}

// --- GET /v1/webhooks/{id}/deliveries -----------------------------------------------------------

Response deliveries(WebhooksContext& context, const Request& request) {
  const Endpoint endpoint = partner_endpoint(context.db, request);
  std::vector<FieldError> errors;
  DeliveryListQuery query = parse_delivery_list_query(request.query, errors);
  const std::string filter_key = query.filter_key(endpoint.id);
  std::optional<std::int64_t> before;
  if (errors.empty() && query.cursor) {
    if (auto position = sdk::cursor_position(context.cursors, *query.cursor, filter_key,
                                             kDeliveryListFilterNames, errors)) {
      before = decode_number_position(*position);
      if (!before) {
        errors.push_back({"cursor", "is not a cursor this API issued; use next_cursor as given"});
      }
    }
  }
  if (!errors.empty()) throw sdk::invalid_query(std::move(errors));

  std::string sql =
      "SELECT a.id, a.event_id, a.attempt, a.at, a.status_code, a.latency_ms, a.error, d.state"
      " FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id"
      " WHERE a.endpoint_id = ?";
  Params params{endpoint.id};
  if (query.event_id) {
    sql += " AND a.event_id = ?";
    params.emplace_back(*query.event_id);
  }
  if (before) {
    sql += " AND a.id < ?";
    params.emplace_back(*before);
  }
  sql += " ORDER BY a.id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(query.limit + 1));

  std::vector<Attempt> attempts;
  for (const Row& row : context.db.query(sql, params)) {
    Attempt a;
    a.id = row.integer(0);
    a.event_id = row.text(1);
    a.attempt = row.integer(2);
    a.at = row.text(3);
    a.status_code = row.optional_integer(4);
    a.latency_ms = row.integer(5);
    a.error = row.optional_text(6);
    a.delivery_state = row.text(7);
    attempts.push_back(std::move(a));
  }
  const bool has_more = attempts.size() > static_cast<std::size_t>(query.limit);
  if (has_more) attempts.pop_back();

  // The event types, one outbox lookup per distinct event on the page.
  std::map<std::string, std::optional<std::string>> types;
  for (auto& a : attempts) {
    auto it = types.find(a.event_id);
    if (it == types.end()) {
      std::optional<StoredEvent> event = context.outbox.find(a.event_id);
      it = types.emplace(a.event_id, event ? std::optional<std::string>(event->type) : std::nullopt)
               .first;
    }
    a.event_type = it->second;
  }

  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const auto& a : attempts) data.push_back(attempt_json(a));
  nlohmann::ordered_json body;
  body["data"] = std::move(data);
  body["has_more"] = has_more;
  body["next_cursor"] = has_more ? nlohmann::ordered_json(context.cursors.encode(
                                       std::to_string(attempts.back().id), filter_key))
                                 : nlohmann::ordered_json(nullptr);
  return json_response(200, body);
}

}  // namespace

std::vector<Route> endpoint_action_routes(WebhooksContext& context) {
  WebhooksContext* c = &context;
  return {
      sdk::route("POST", "/v1/webhooks/{id}/rotate-secret", kManage,
                 [c](const Request& r) { return rotate_secret(*c, r); }),
      sdk::route("POST", "/v1/webhooks/{id}/test", kManage,
                 [c](const Request& r) { return send_test(*c, r); }),
      sdk::route("GET", "/v1/webhooks/{id}/deliveries", kManage,
                 [c](const Request& r) { return deliveries(*c, r); }),
  };
}

}  // namespace portico::routes_webhooks
