// The endpoint routes (scope webhooks:manage): create (the secret is shown only here and on
// rotation), list (newest first, keyset cursors), read, PATCH, DELETE (its deliveries and attempts
// go with it), rotate-secret, test (a webhook.test event through the outbox) and the attempt log.
// Every route sees only the caller's own endpoints: another partner's endpoint id answers the same
// 404 as an id that does not exist.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "portico/sdk/routes.hpp"
#include "endpoint_input.hpp"
#include "event_query.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/query.hpp"
#include "portico/sdk/sodium.hpp"
#include "webhook_records.hpp"
#include "webhooks_common/event_types.hpp"
#include "webhooks_common/secrets_at_rest.hpp"
#include "webhooks_common/signing.hpp"
#include "webhooks_common/target_guard.hpp"
#include "webhooks_context.hpp"

namespace portico::routes_webhooks {
namespace {

constexpr const char* kManage = "webhooks:manage";
constexpr auto kPreviousSecretLifetime = std::chrono::hours(24);

ProblemError no_such_endpoint(const std::string& id) {
  return sdk::not_found("No webhook endpoint with id '" + id + "'.");
}

// The SSRF guard at creation: the URL's shape, then every address its host resolves to. A
// refused address gets the partner a generic message; what the host resolved to, its class and
// the setting that would admit it go to the operator log only.
std::optional<std::string> check_target(WebhooksContext& context, const std::string& partner_id,
                                        const std::string& url) {
  webhooks::TargetParse parsed = webhooks::parse_target(url);
  if (!parsed) return parsed.error;  // about the URL's text only, which the partner wrote
  webhooks::Resolution resolution = webhooks::resolve_and_check(
      parsed.target->host, parsed.target->port, context.settings.allow_private_targets);
  if (resolution) return std::nullopt;
  context.host.log().warn("webhook URL refused for partner " + partner_id + ": " +
                          with_own_config_hint(resolution.detail));
  return resolution.partner;
}

EndpointChecks checks_of(WebhooksContext& context, const std::string& partner_id) {
  WebhooksContext* c = &context;
  return {[c, partner_id](const std::string& url) { return check_target(*c, partner_id, url); },
          [](const std::vector<std::string>& filters, const std::string& field) {
            return webhooks::validate_filters(filters, field);
          }};
}

std::optional<Endpoint> load_endpoint(Session& session, const std::string& partner_id,
                                      const std::string& id) {
  if (!plausible_id(id, kEndpointIdPrefix)) return std::nullopt;
  Rows rows = session.query(std::string("SELECT ") + kEndpointColumns +
                                " FROM webhook_endpoints WHERE id = ? AND partner_id = ?",
                            {id, partner_id});
  if (rows.empty()) return std::nullopt;
  return endpoint_from_row(rows.front());
}

// The caller's endpoint named in the path, read through `session`, or the 404.
Endpoint partner_endpoint(Session& session, const Request& request) {
  const std::string& id = request.param("id");
  std::optional<Endpoint> endpoint = load_endpoint(session, partner_of(request), id);
  if (!endpoint) throw no_such_endpoint(id);
  return std::move(*endpoint);
}

Response json_response(int status, const nlohmann::ordered_json& body, bool secret = false) {
  Response response;
  response.status = status;
  response.body = body.dump();
  // Answers carrying a secret must not be kept anywhere; the rest change when the gateway
  // disables an endpoint, so caches revalidate.
  response.set_header("Cache-Control", secret ? "no-store" : "private, no-cache");
  return response;
}

void write_endpoint(Session& tx, const Endpoint& e) {
  tx.execute(
      "UPDATE webhook_endpoints SET url = ?, events = ?, description = ?, status = ?,"
      " disabled_reason = ?, secret = ?, previous_secret = ?, previous_secret_expires_at = ?,"
      " signing_key = ?, public_key = ?, failing_since = ?, updated_at = ? WHERE id = ?",
      {e.url, filters_to_text(e.events), e.description, e.status,
       e.disabled_reason ? Value(*e.disabled_reason) : Value(nullptr), e.secret,
       e.previous_secret ? Value(*e.previous_secret) : Value(nullptr),
       e.previous_secret_expires_at ? Value(*e.previous_secret_expires_at) : Value(nullptr),
       e.signing_key ? Value(*e.signing_key) : Value(nullptr),
       e.public_key ? Value(*e.public_key) : Value(nullptr),
       e.failing_since ? Value(*e.failing_since) : Value(nullptr), e.updated_at, e.id});
}

// --- POST /v1/webhooks --------------------------------------------------------------------------

Response create(WebhooksContext& context, const Request& request) {
  const std::string& partner_id = partner_of(request);
  nlohmann::json body = sdk::parse_json_body(request);
  std::vector<FieldError> errors;
  EndpointCreate input = read_endpoint_create(body, errors, checks_of(context, partner_id));
  sdk::refuse_invalid_fields(std::move(errors));

  Endpoint e;
  e.id = sdk::random_id(kEndpointIdPrefix);
  e.partner_id = partner_id;
  e.url = input.url;
  e.events = input.events;
  e.description = input.description;
  e.status = kEnabled;
  // Stored sealed under the data key (secrets_at_rest.hpp); the partner gets the secret once.
  const std::string secret = webhooks::generate_secret();
  e.secret = context.host.seal_secret(secret);
  if (input.ed25519) {
    webhooks::Ed25519Keys keys = webhooks::generate_ed25519_keys();
    e.signing_key = context.host.seal_secret(keys.secret_key);
    e.public_key = keys.public_key;
  }
  e.created_at = e.updated_at = context.now();

  const std::int64_t most = context.settings.max_endpoints_per_partner;
  context.db.transaction([&](Session& tx) {
    const std::int64_t count =
        tx.query("SELECT COUNT(*) FROM webhook_endpoints WHERE partner_id = ?", {partner_id})
            .front()
            .integer(0);
    if (count >= most) {
      throw sdk::conflict("too_many_endpoints",
                          "A partner can have at most " + std::to_string(most) +
                              " webhook endpoints and you have " + std::to_string(count) +
                              ". Delete one you no longer use, or add several event types "
                              "to one endpoint.");
    }
    tx.execute(
        "INSERT INTO webhook_endpoints(id, partner_id, url, events, description, status,"
        " disabled_reason, secret, previous_secret, previous_secret_expires_at, signing_key,"
        " public_key, failing_since, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL, NULL, ?, ?, NULL, ?, ?)",
        {e.id, e.partner_id, e.url, filters_to_text(e.events), e.description, e.status, e.secret,
         e.signing_key ? Value(*e.signing_key) : Value(nullptr),
         e.public_key ? Value(*e.public_key) : Value(nullptr), e.created_at, e.updated_at});
  });

  nlohmann::ordered_json answer = endpoint_json(e);
  answer["secret"] = secret;
  Response response = json_response(201, answer, true);
  response.set_header("Location", "/v1/webhooks/" + e.id);
  return response;
}

// --- GET /v1/webhooks ---------------------------------------------------------------------------

Response list(WebhooksContext& context, const Request& request) {
  const std::string& partner_id = partner_of(request);
  std::vector<FieldError> errors;
  sdk::PageParameters page =
      sdk::read_list_query(request.query, std::span<const std::string_view>{}, errors,
                           [](const std::string&, const std::string&) {});
  const std::string filter_key = "webhooks";
  std::optional<EndpointPosition> after;
  if (errors.empty() && page.cursor) {
    if (auto position =
            sdk::cursor_position(context.cursors, *page.cursor, filter_key, "the query", errors)) {
      after = decode_endpoint_position(*position);
      if (!after) {
        errors.push_back({"cursor", "is not a cursor this API issued; use next_cursor as given"});
      }
    }
  }
  if (!errors.empty()) throw sdk::invalid_query(std::move(errors));

  std::string sql =
      std::string("SELECT ") + kEndpointColumns + " FROM webhook_endpoints WHERE partner_id = ?";
  Params params{partner_id};
  if (after) {
    sql += " AND created_at <= ? AND (created_at < ? OR id < ?)";
    params.emplace_back(after->created_at);
    params.emplace_back(after->created_at);
    params.emplace_back(after->id);
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(page.limit + 1));  // one more: a next page?
  std::vector<Endpoint> endpoints;
  for (const Row& row : context.db.query(sql, params)) endpoints.push_back(endpoint_from_row(row));
  const bool has_more = endpoints.size() > static_cast<std::size_t>(page.limit);
  if (has_more) endpoints.pop_back();

  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const auto& e : endpoints) data.push_back(endpoint_json(e));
  nlohmann::ordered_json body;
  body["data"] = std::move(data);
  body["has_more"] = has_more;
  body["next_cursor"] =
      has_more ? nlohmann::ordered_json(context.cursors.encode(
                     encode_endpoint_position(endpoints.back().created_at, endpoints.back().id),
                     filter_key))
               : nlohmann::ordered_json(nullptr);
  return json_response(200, body);
}

// --- PATCH /v1/webhooks/{id} --------------------------------------------------------------------

Response patch(WebhooksContext& context, const Request& request) {
  nlohmann::json body = sdk::parse_json_body(request);
  std::vector<FieldError> errors;
  EndpointPatch change = read_endpoint_patch(body, errors, checks_of(context, partner_of(request)));
  sdk::refuse_invalid_fields(std::move(errors));

  // Keys are made (and the secret half sealed) outside the transaction; used only if the endpoint
  // has none yet.
  std::optional<webhooks::Ed25519Keys> keys;
  if (change.ed25519 && *change.ed25519) {
    keys = webhooks::generate_ed25519_keys();
    keys->secret_key = context.host.seal_secret(keys->secret_key);
  }
  const std::string now = context.now();
  Endpoint after;
  context.db.transaction([&](Session& tx) {
    const Endpoint before = partner_endpoint(tx, request);
    after = before;
    if (change.url && *change.url != before.url) {
      after.url = *change.url;
      after.failing_since.reset();  // a new target starts a new failure streak
    }
    if (change.events) after.events = *change.events;
    if (change.description) after.description = *change.description;
    if (change.status && *change.status != before.status) {
      after.status = *change.status;
      if (after.status == kEnabled) {
        // Re-enabled: the gateway's reason and the failure streak are history; pending
        // deliveries resume.
        after.disabled_reason.reset();
        after.failing_since.reset();
      } else {
        after.disabled_reason.reset();  // disabled by the partner, not the gateway
      }
    }
    if (change.ed25519) {
      if (*change.ed25519 && !before.signing_key) {
        after.signing_key = keys->secret_key;
        after.public_key = keys->public_key;
      } else if (!*change.ed25519) {
        after.signing_key.reset();
        after.public_key.reset();
      }
    }
    const bool changed = after.url != before.url || after.events != before.events ||
                         after.description != before.description || after.status != before.status ||
                         after.disabled_reason != before.disabled_reason ||
                         after.failing_since != before.failing_since ||
                         after.signing_key != before.signing_key;
    if (changed) {
      after.updated_at = now;
      write_endpoint(tx, after);
    }
  });
  return json_response(200, endpoint_json(after));
}

// --- DELETE /v1/webhooks/{id} -------------------------------------------------------------------

Response remove(WebhooksContext& context, const Request& request) {
  context.db.transaction([&](Session& tx) {
    const Endpoint endpoint = partner_endpoint(tx, request);
    // ON DELETE CASCADE does the same on a connection with foreign keys on; explicit, so it never
    // depends on that.
    tx.execute("DELETE FROM webhook_attempts WHERE endpoint_id = ?", {endpoint.id});
    tx.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", {endpoint.id});
    tx.execute("DELETE FROM webhook_endpoints WHERE id = ?", {endpoint.id});
  });
  Response response;
  response.status = 204;
  response.content_type.clear();
  return response;
}

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

std::vector<Route> endpoint_routes(WebhooksContext& context) {
  WebhooksContext* c = &context;
  return {
      sdk::route("POST", "/v1/webhooks", kManage, [c](const Request& r) { return create(*c, r); }),
      sdk::route("GET", "/v1/webhooks", kManage, [c](const Request& r) { return list(*c, r); }),
      sdk::route("GET", "/v1/webhooks/{id}", kManage,
       [c](const Request& r) {
         return json_response(200, endpoint_json(partner_endpoint(c->db, r)));
       }),
      sdk::route("PATCH", "/v1/webhooks/{id}", kManage, [c](const Request& r) { return patch(*c, r); }),
      sdk::route("DELETE", "/v1/webhooks/{id}", kManage,
       [c](const Request& r) { return remove(*c, r); }),
      sdk::route("POST", "/v1/webhooks/{id}/rotate-secret", kManage,
       [c](const Request& r) { return rotate_secret(*c, r); }),
      sdk::route("POST", "/v1/webhooks/{id}/test", kManage,
       [c](const Request& r) { return send_test(*c, r); }),
      sdk::route("GET", "/v1/webhooks/{id}/deliveries", kManage,
       [c](const Request& r) { return deliveries(*c, r); }),
  };
}

}  // namespace portico::routes_webhooks
