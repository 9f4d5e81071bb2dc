// Webhooks and events through the real binary, beyond the endpoints themselves: partner isolation
// and scopes on every route, webhook.test through the outbox, the 30-day event feed (own and
// catalog events, never another partner's), redelivery into webhook_deliveries, the attempt log
// and cascade on delete.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "tests/integration/webhooks_helpers.hpp"

namespace portico::test::webhooks_routes {
namespace {

TEST(WebhookIsolation, AnotherPartnersEndpointsAndEventsAre404) {
  Hooks h;
  const std::string endpoint = h.add(h.a)["id"];
  const std::string event = h.send_test(h.a, endpoint);
  ASSERT_FALSE(event.empty());
  const std::string missing_endpoint = "we_000000000000000000000000";
  const std::string missing_event = "evt_000000000000000000000000";

  struct Probe {
    std::string method;
    std::string path;
    std::optional<json> body;
  };
  auto probes = [](const std::string& e, const std::string& ev) {
    return std::vector<Probe>{
        {"GET", "/v1/webhooks/" + e, std::nullopt},
        {"PATCH", "/v1/webhooks/" + e, json{{"description", "mine now"}}},
        {"DELETE", "/v1/webhooks/" + e, std::nullopt},
        {"POST", "/v1/webhooks/" + e + "/rotate-secret", std::nullopt},
        {"POST", "/v1/webhooks/" + e + "/test", std::nullopt},
        {"GET", "/v1/webhooks/" + e + "/deliveries", std::nullopt},
        {"GET", "/v1/events/" + ev, std::nullopt},
        {"POST", "/v1/events/" + ev + "/redeliver", std::nullopt},
    };
  };
  auto theirs = probes(endpoint, event);
  auto missing = probes(missing_endpoint, missing_event);
  for (std::size_t i = 0; i < theirs.size(); ++i) {
    auto as_b = h.call(h.b, theirs[i].method, theirs[i].path, theirs[i].body);
    auto absent = h.call(h.b, missing[i].method, missing[i].path, missing[i].body);
    EXPECT_EQ(as_b.status, 404) << theirs[i].method << " " << theirs[i].path << ": " << as_b.body;
    EXPECT_EQ(code_of(as_b), "not_found") << theirs[i].path;
    EXPECT_EQ(absent.status, 404) << missing[i].path;
    // The same answer as for an id that does not exist, but for the id it names.
    json x = json::parse(as_b.body, nullptr, false), y = json::parse(absent.body, nullptr, false);
    for (const char* member : {"type", "title", "status", "code"}) {
      EXPECT_EQ(x[member], y[member]) << member << " of " << theirs[i].path;
    }
  }
  // Nothing of A's changed, nothing of A's is listed for B.
  json still = h.get_json(h.a, "/v1/webhooks/" + endpoint);
  EXPECT_EQ(still["description"], "");
  EXPECT_EQ(h.get_json(h.b, "/v1/webhooks")["data"].size(), 0u);
  json feed_b = h.get_json(h.b, "/v1/events?type=webhook.test");
  EXPECT_EQ(feed_b["data"].size(), 0u);
  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_deliveries"), "0");
}

TEST(WebhookIsolation, ScopesGuardTheRoutes) {
  Hooks h;
  const std::string reader = h.key(h.a, json{{"scopes", {"events:read"}}});
  const std::string manager = h.key(h.a, json{{"scopes", {"webhooks:manage"}}});
  EXPECT_EQ(h.call(reader, "GET", "/v1/events").status, 200);
  EXPECT_EQ(h.call(reader, "GET", "/v1/webhooks").status, 403);
  EXPECT_EQ(
      h.call(reader, "POST", "/v1/webhooks", json{{"url", kPublicUrl}, {"events", {"*"}}}).status,
      403);
  EXPECT_EQ(h.call(manager, "GET", "/v1/webhooks").status, 200);
  EXPECT_EQ(h.call(manager, "GET", "/v1/events").status, 403);
  EXPECT_EQ(h.call("pk_test_nope", "GET", "/v1/webhooks").status, 401);
}

// --- test events and the events API -----------------------------------------------------------

TEST(WebhookEvents, TestEventGoesThroughTheOutboxAndTheFeedShowsOwnAndCatalogEvents) {
  Hooks h;
  const std::string endpoint = h.add(h.a, {"order.*"})["id"];  // filters do not matter
  const std::string test_event = h.send_test(h.a, endpoint);
  ASSERT_TRUE(test_event.starts_with("evt_")) << test_event;
  EXPECT_EQ(
      h.db("SELECT type, partner_id, subject FROM outbox_events WHERE id = '" + test_event + "'"),
      (std::vector<std::vector<std::string>>{{"webhook.test", h.a.id, endpoint}}));

  // B's test event, and a catalog change (product.updated + inventory.changed, partner '').
  const std::string endpoint_b = h.add(h.b)["id"];
  const std::string event_b = h.send_test(h.b, endpoint_b);
  h.admin.import(json::array({products::product(1)}));

  auto res = h.call(h.a, "GET", "/v1/events");
  ASSERT_EQ(res.status, 200) << res.body;
  json feed = json::parse(res.body);
  std::vector<std::string> types;
  for (const auto& event : feed["data"]) types.push_back(event["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"inventory.changed", "product.updated",
                                             "webhook.test"}));  // newest first
  EXPECT_EQ(ids_of(feed).back(), test_event);
  EXPECT_EQ(res.body.find(event_b), std::string::npos);
  EXPECT_FALSE(feed["has_more"].get<bool>());

  // Each item is the stored Standard Webhooks body, exactly.
  const json& test = feed["data"][2];
  EXPECT_EQ(test["id"], test_event);
  EXPECT_EQ(test["api_version"], "v1");
  EXPECT_EQ(test["data"]["object"]["endpoint_id"], endpoint);
  EXPECT_TRUE(test["data"]["object"]["message"].is_string());
  EXPECT_EQ(test, json::parse(h.db_value("SELECT payload FROM outbox_events WHERE id = '" +
                                         test_event + "'")));
  EXPECT_EQ(h.get_json(h.a, "/v1/events/" + test_event), test);
  const std::string catalog_event = feed["data"][0]["id"];
  EXPECT_EQ(h.get_json(h.b, "/v1/events/" + catalog_event)["type"], "inventory.changed");

  // Filters: types (exact or patterns), created_since; pages.
  json tests_only = h.get_json(h.a, "/v1/events?type=webhook.test");
  EXPECT_EQ(ids_of(tests_only), (std::vector<std::string>{test_event}));
  json catalog = h.get_json(h.a, "/v1/events?type=product.updated,%20inventory.*");
  EXPECT_EQ(catalog["data"].size(), 2u);
  EXPECT_EQ(h.get_json(h.a, "/v1/events?type=order.*")["data"].size(), 0u);
  EXPECT_EQ(h.get_json(h.a, "/v1/events?created_since=2000-01-01T00:00:00Z")["data"].size(), 3u);
  EXPECT_EQ(h.get_json(h.a, "/v1/events?created_since=2999-01-01T00:00:00%2B09:00")["data"].size(),
            0u);
  std::vector<std::string> walked;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    json body = h.get_json(h.a, "/v1/events?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (auto& id : ids_of(body)) walked.push_back(id);
    if (!body["has_more"].get<bool>()) break;
    cursor = body["next_cursor"];
  }
  EXPECT_EQ(walked, ids_of(feed));
  // A cursor belongs to its filters.
  json first = h.get_json(h.a, "/v1/events?limit=1");
  auto bad = h.call(
      h.a, "GET",
      "/v1/events?limit=1&type=webhook.test&cursor=" + first["next_cursor"].get<std::string>());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(fields_of(bad), (std::set<std::string>{"cursor"}));

  bad = h.call(h.a, "GET", "/v1/events?type=order.create&created_since=soon&kind=x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(fields_of(bad), (std::set<std::string>{"type", "created_since", "kind"}));
  EXPECT_NE(bad.body.find("did you mean 'order.created'"), std::string::npos) << bad.body;
}

TEST(WebhookEvents, TheFeedReachesBackThirtyDaysOnly) {
  Hooks h;
  const auto now = std::chrono::system_clock::now();
  auto insert = [&](const std::string& id, const std::string& partner, const std::string& created) {
    json payload = {{"id", id},
                    {"type", "order.created"},
                    {"created", created},
                    {"api_version", "v1"},
                    {"data", {{"object", {{"id", "ord_1"}}}}}};
    h.db_write(
        "INSERT INTO outbox_events(id, type, partner_id, subject, payload, created_at) VALUES ('" +
        id + "', 'order.created', '" + partner + "', 'ord_1', '" + payload.dump() + "', '" +
        created + "')");
  };
  insert("evt_old", h.a.id, outbox_time(now - std::chrono::hours(24 * 31)));
  insert("evt_recent", h.a.id, outbox_time(now - std::chrono::hours(24 * 29)));
  insert("evt_others", h.b.id, outbox_time(now - std::chrono::hours(1)));

  EXPECT_EQ(ids_of(h.get_json(h.a, "/v1/events")), (std::vector<std::string>{"evt_recent"}));
  EXPECT_EQ(ids_of(h.get_json(h.a, "/v1/events?created_since=2000-01-01T00:00:00Z")),
            (std::vector<std::string>{"evt_recent"}));
  EXPECT_EQ(h.call(h.a, "GET", "/v1/events/evt_old").status, 404);
  EXPECT_EQ(h.call(h.a, "GET", "/v1/events/evt_others").status, 404);
  EXPECT_EQ(h.get_json(h.a, "/v1/events/evt_recent")["id"], "evt_recent");
  EXPECT_EQ(h.get_json(h.b, "/v1/events/evt_others")["id"], "evt_others");
}

// --- redelivery, the attempt log, cascade on delete ---------------------------------------------

TEST(WebhookDeliveries, RedeliverQueuesTheEventForEveryMatchingEnabledEndpoint) {
  Hooks h;
  const std::string orders = h.add(h.a, {"order.*"})["id"];
  const std::string stock = h.add(h.a, {"inventory.changed", "product.updated"})["id"];
  const std::string everything = h.add(h.a, {"*"})["id"];
  const std::string off = h.add(h.a, {"*"})["id"];
  ASSERT_EQ(h.call(h.a, "PATCH", "/v1/webhooks/" + off, json{{"status", "disabled"}}).status, 200);
  h.add(h.b, {"*"});  // another partner's endpoint never gets A's redelivery

  h.admin.import(json::array({products::product(7)}));
  const std::string inventory_event =
      h.db_value("SELECT id FROM outbox_events WHERE type = 'inventory.changed'");
  const std::string sequence =
      h.db_value("SELECT sequence FROM outbox_events WHERE id = '" + inventory_event + "'");

  const auto before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  auto res = h.call(h.a, "POST", "/v1/events/" + inventory_event + "/redeliver");
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(json::parse(res.body), (json{{"event_id", inventory_event}, {"deliveries", 2}}));
  auto rows = h.db(
      "SELECT endpoint_id, event_sequence, ordering_key, state, attempts, next_attempt_at"
      " FROM webhook_deliveries WHERE event_id = '" +
      inventory_event + "' ORDER BY endpoint_id");
  ASSERT_EQ(rows.size(), 2u);
  std::set<std::string> targets{rows[0][0], rows[1][0]};
  EXPECT_EQ(targets, (std::set<std::string>{stock, everything}));
  for (const auto& row : rows) {
    EXPECT_EQ(row[1], sequence);
    EXPECT_EQ(row[2], "prod_0007");  // the event's subject: per-product ordering
    EXPECT_EQ(row[3], "pending");
    EXPECT_EQ(row[4], "0");
    EXPECT_GE(std::stoll(row[5]), before_ms - 1000);
    EXPECT_LE(std::stoll(row[5]), before_ms + 60000);
  }

  // A test event goes back only to the endpoint it was sent to, whatever the filters.
  const std::string test_event = h.send_test(h.a, orders);
  res = h.call(h.a, "POST", "/v1/events/" + test_event + "/redeliver");
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(json::parse(res.body)["deliveries"], 1);
  EXPECT_EQ(
      h.db("SELECT endpoint_id FROM webhook_deliveries WHERE event_id = '" + test_event + "'"),
      (std::vector<std::vector<std::string>>{{orders}}));

  // Nothing subscribed: 409, nothing queued.
  ASSERT_EQ(h.call(h.a, "PATCH", "/v1/webhooks/" + stock, json{{"status", "disabled"}}).status,
            200);
  ASSERT_EQ(
      h.call(h.a, "PATCH", "/v1/webhooks/" + everything, json{{"events", {"order.*"}}}).status,
      200);
  res = h.call(h.a, "POST", "/v1/events/" + inventory_event + "/redeliver");
  EXPECT_EQ(res.status, 409) << res.body;
  EXPECT_EQ(code_of(res), "no_matching_endpoints");
  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_deliveries"), "3");
}

TEST(WebhookDeliveries, TheAttemptLogAndCascadeOnDelete) {
  Hooks h;
  const std::string endpoint = h.add(h.a)["id"];
  const std::string other = h.add(h.a)["id"];
  const std::string first = h.send_test(h.a, endpoint);
  const std::string second = h.send_test(h.a, endpoint);
  // What webhook_delivery records: a delivery per (event, endpoint), an attempt per try.
  h.db_write(
      "INSERT INTO webhook_deliveries(id, endpoint_id, event_id, event_sequence, ordering_key,"
      " state, attempts, next_attempt_at, last_status, created_at, updated_at) VALUES"
      " (1, '" +
      endpoint + "', '" + first +
      "', 1, '', 'succeeded', 2, 0, 200, 'c', 'u'),"
      " (2, '" +
      endpoint + "', '" + second +
      "', 2, '', 'pending', 1, 0, 500, 'c', 'u'),"
      " (3, '" +
      other + "', '" + first + "', 1, '', 'pending', 1, 0, NULL, 'c', 'u')");
  h.db_write(
      "INSERT INTO webhook_attempts(id, delivery_id, endpoint_id, event_id, attempt, at,"
      " status_code, latency_ms, error) VALUES"
      " (1, 1, '" +
      endpoint + "', '" + first +
      "', 1, '2026-11-26T10:00:00.000Z', NULL, 15000,"
      " 'timed out after 15s'),"
      " (2, 1, '" +
      endpoint + "', '" + first +
      "', 2, '2026-11-26T10:00:05.000Z', 200, 42, NULL),"
      " (3, 2, '" +
      endpoint + "', '" + second +
      "', 1, '2026-11-26T10:01:00.000Z', 500, 17,"
      " 'HTTP 500'),"
      " (4, 3, '" +
      other + "', '" + first +
      "', 1, '2026-11-26T10:02:00.000Z', NULL, 3,"
      " 'connection refused')");

  json log = h.get_json(h.a, "/v1/webhooks/" + endpoint + "/deliveries");
  ASSERT_EQ(log["data"].size(), 3u) << log.dump();
  EXPECT_EQ(log["data"][0], (json{{"id", 3},
                                  {"event_id", second},
                                  {"event_type", "webhook.test"},
                                  {"attempt", 1},
                                  {"at", "2026-11-26T10:01:00.000Z"},
                                  {"status_code", 500},
                                  {"latency_ms", 17},
                                  {"error", "HTTP 500"},
                                  {"delivery_state", "pending"}}));
  EXPECT_EQ(log["data"][1]["status_code"], 200);
  EXPECT_TRUE(log["data"][1]["error"].is_null());
  EXPECT_EQ(log["data"][1]["delivery_state"], "succeeded");
  EXPECT_TRUE(log["data"][2]["status_code"].is_null());
  EXPECT_EQ(log["data"][2]["error"], "timed out after 15s");

  json filtered = h.get_json(h.a, "/v1/webhooks/" + endpoint + "/deliveries?event_id=" + first);
  EXPECT_EQ(filtered["data"].size(), 2u);
  json page = h.get_json(h.a, "/v1/webhooks/" + endpoint + "/deliveries?limit=2");
  EXPECT_TRUE(page["has_more"].get<bool>());
  json rest = h.get_json(h.a, "/v1/webhooks/" + endpoint + "/deliveries?limit=2&cursor=" +
                                  page["next_cursor"].get<std::string>());
  EXPECT_EQ(rest["data"].size(), 1u);
  EXPECT_EQ(rest["data"][0]["id"], 1);
  EXPECT_FALSE(rest["has_more"].get<bool>());
  // The cursor is this endpoint's.
  EXPECT_EQ(h.call(h.a, "GET",
                   "/v1/webhooks/" + other +
                       "/deliveries?limit=2&cursor=" + page["next_cursor"].get<std::string>())
                .status,
            400);
  EXPECT_EQ(h.call(h.a, "GET", "/v1/webhooks/" + endpoint + "/deliveries?event_id=ord_1").status,
            400);

  // Deleting the endpoint takes its deliveries and attempts with it, and only its.
  EXPECT_EQ(h.call(h.a, "DELETE", "/v1/webhooks/" + endpoint).status, 204);
  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_deliveries"), "1");
  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_attempts"), "1");
  EXPECT_EQ(h.get_json(h.a, "/v1/webhooks/" + other + "/deliveries")["data"].size(), 1u);
}

}  // namespace
}  // namespace portico::test::webhooks_routes
