// The events API: a partner's view of the outbox over the last 30 days — its own events and the
// catalog's (partner_id '') — newest first (GET /v1/events, GET /v1/events/{id}, scope
// events:read), and redelivery of one event to every matching enabled endpoint of the partner
// (POST /v1/events/{id}/redeliver, scope webhooks:manage). Another partner's event, or one older
// than the window, answers the same 404 as an id that does not exist.
#include <optional>
#include <string>
#include <vector>

#include "portico/sdk/routes.hpp"
#include "event_query.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/query.hpp"
#include "webhook_records.hpp"
#include "webhooks_common/event_types.hpp"
#include "webhooks_context.hpp"

namespace portico::routes_webhooks {
namespace {

constexpr const char* kRead = "events:read";
constexpr const char* kManage = "webhooks:manage";

// The stored Standard Webhooks body {id, type, created, api_version, data}, members in order.
nlohmann::ordered_json event_json(const StoredEvent& event) {
  return nlohmann::ordered_json::parse(event.payload);
}

Response json_response(int status, const nlohmann::ordered_json& body) {
  Response response;
  response.status = status;
  response.body = body.dump();
  response.set_header("Cache-Control", "private, no-cache");
  return response;
}

// The event named in the path, if the caller may see it: its own or a catalog event, created
// inside the window. Otherwise the 404.
StoredEvent visible_event(WebhooksContext& context, const Request& request) {
  const std::string& partner_id = partner_of(request);
  const std::string& id = request.param("id");
  std::optional<StoredEvent> event;
  if (plausible_id(id, kEventIdPrefix)) event = context.outbox.find(id);
  if (!event || (event->partner_id != partner_id && !event->partner_id.empty()) ||
      !inside_window(event->created_at, context.host.now())) {
    throw sdk::not_found("No event with id '" + id + "' in the last 30 days.");
  }
  return std::move(*event);
}

// --- GET /v1/events -----------------------------------------------------------------------------

Response list(WebhooksContext& context, const Request& request) {
  const std::string& partner_id = partner_of(request);
  std::vector<FieldError> errors;
  EventListQuery query = parse_event_list_query(request.query, errors);
  std::optional<std::int64_t> before;
  if (errors.empty() && query.cursor) {
    if (auto position = sdk::cursor_position(context.cursors, *query.cursor, query.filter_key(),
                                             kEventListFilterNames, errors)) {
      before = decode_number_position(*position);
      if (!before) {
        errors.push_back({"cursor", "is not a cursor this API issued; use next_cursor as given"});
      }
    }
  }
  if (!errors.empty()) throw sdk::invalid_query(std::move(errors));

  EventFeedQuery feed;
  feed.partner_id = partner_id;
  feed.before_sequence = before.value_or(0);
  feed.types = query.types;
  feed.created_since = query.effective_since(context.host.now());
  feed.limit = query.limit + 1;  // one more: is there a next page?
  std::vector<StoredEvent> events = context.outbox.feed(feed);
  const bool has_more = events.size() > static_cast<std::size_t>(query.limit);
  if (has_more) events.pop_back();

  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const auto& event : events) data.push_back(event_json(event));
  nlohmann::ordered_json body;
  body["data"] = std::move(data);
  body["has_more"] = has_more;
  body["next_cursor"] = has_more ? nlohmann::ordered_json(context.cursors.encode(
                                       std::to_string(events.back().sequence), query.filter_key()))
                                 : nlohmann::ordered_json(nullptr);
  return json_response(200, body);
}

// --- POST /v1/events/{id}/redeliver -------------------------------------------------------------

Response redeliver(WebhooksContext& context, const Request& request) {
  const std::string& partner_id = partner_of(request);
  const StoredEvent event = visible_event(context, request);
  const std::string now = context.now();
  const std::int64_t due = context.now_ms();
  std::int64_t queued = 0;
  context.db.transaction([&](Session& tx) {
    Rows endpoints = tx.query(
        "SELECT id, events FROM webhook_endpoints WHERE partner_id = ? AND status = 'enabled'"
        " ORDER BY created_at, id",
        {partner_id});
    for (const Row& row : endpoints) {
      const std::string endpoint_id = row.text(0);
      // As webhook_delivery fans out: webhook.test goes only to the endpoint it names, and
      // webhook.endpoint_disabled to every other endpoint, whatever the filters.
      bool wanted = false;
      if (event.type == webhooks::kTestEventType) {
        wanted = endpoint_id == event.subject;
      } else if (event.type == webhooks::kEndpointDisabledEventType) {
        wanted = endpoint_id != event.subject;
      } else {
        wanted = webhooks::matches(filters_from_text(row.text(1)), event.type);
      }
      if (!wanted) continue;
      tx.execute(
          "INSERT INTO webhook_deliveries(endpoint_id, event_id, event_sequence, ordering_key,"
          " state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at)"
          " VALUES (?, ?, ?, ?, 'pending', 0, ?, NULL, NULL, ?, ?)",
          {endpoint_id, event.id, event.sequence, event.subject, due, now, now});
      ++queued;
    }
    if (queued == 0 && event.type == webhooks::kTestEventType) {
      throw sdk::conflict("no_matching_endpoints",
                          "Test event " + event.id + " goes only to endpoint " + event.subject +
                              ", which is disabled or deleted. Enable it, or send a new test "
                              "event to another endpoint.");
    }
    if (queued == 0) {
      throw sdk::conflict("no_matching_endpoints",
                          "None of your enabled webhook endpoints subscribes to " + event.type +
                              " events, so event " + event.id +
                              " has nowhere to go. Add the type to an endpoint's events (or "
                              "enable one) and try again.");
    }
  });
  nlohmann::ordered_json body;
  body["event_id"] = event.id;
  body["deliveries"] = queued;
  return json_response(202, body);
}

}  // namespace

std::vector<Route> event_routes(WebhooksContext& context) {
  WebhooksContext* c = &context;
  return {
      sdk::route("GET", "/v1/events", kRead, [c](const Request& r) { return list(*c, r); }),
      sdk::route("GET", "/v1/events/{id}", kRead,
       [c](const Request& r) { return json_response(200, event_json(visible_event(*c, r))); }),
      sdk::route("POST", "/v1/events/{id}/redeliver", kManage,
       [c](const Request& r) { return redeliver(*c, r); }),
  };
}

}  // namespace portico::routes_webhooks
