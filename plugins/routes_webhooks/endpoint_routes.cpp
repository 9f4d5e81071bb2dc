// The endpoint routes (scope webhooks:manage): create (the secret is shown only here and on
// rotation), list (newest first, keyset cursors), read, PATCH and DELETE (its deliveries and
// attempts go with it), with the SSRF check of a new URL. Every route sees only the caller's own
// endpoints: another partner's endpoint id answers the same 404 as an id that does not exist.
// rotate-secret, test and the attempt log are in endpoint_actions.cpp; what both share in
// endpoint_access.cpp.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "endpoint_access.hpp"
#include "endpoint_input.hpp"
#include "lib/webhook_signing/signing.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/query.hpp"
#include "portico/sdk/routes.hpp"
#include "portico/sdk/sodium.hpp"
#include "webhook_records.hpp"
#include "webhooks_common/event_types.hpp"
#include "webhooks_common/target_guard.hpp"
#include "webhooks_context.hpp"

namespace portico::routes_webhooks {
namespace {

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

}  // namespace

std::vector<Route> endpoint_routes(WebhooksContext& context) {
  WebhooksContext* c = &context;
  std::vector<Route> routes = {
      sdk::route("POST", "/v1/webhooks", kManage, [c](const Request& r) { return create(*c, r); }),
      sdk::route("GET", "/v1/webhooks", kManage, [c](const Request& r) { return list(*c, r); }),
      sdk::route("GET", "/v1/webhooks/{id}", kManage,
                 [c](const Request& r) {
                   return json_response(200, endpoint_json(partner_endpoint(c->db, r)));
                 }),
      sdk::route("PATCH", "/v1/webhooks/{id}", kManage,
                 [c](const Request& r) { return patch(*c, r); }),
      sdk::route("DELETE", "/v1/webhooks/{id}", kManage,
                 [c](const Request& r) { return remove(*c, r); }),
  };
  // Then rotate-secret, test and deliveries, in that order (endpoint_actions.cpp).
  for (Route& route : endpoint_action_routes(context)) routes.push_back(std::move(route));
  return routes;
}

}  // namespace portico::routes_webhooks
