// Orders through the real binary after creation: list filters and cursors, ETag / If-None-Match /
// If-Match, partner cancellation and metadata, the operator's status and shipment routes, the
// outbox events of every change, partner isolation and scopes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/orders_helpers.hpp"

namespace portico::test::orders {
namespace {

TEST(Orders, ListIsNewestFirstWithFiltersAndCursors) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 500}})});
  std::vector<json> created;
  for (int n = 0; n < 23; ++n) {
    json extra = json::object();
    if (n % 2 == 0) extra["external_id"] = "PO-" + std::to_string(n);
    created.push_back(
        s.create_ok(s.shop, "list-" + std::to_string(n), order_body({{"prod_a", 1}}, extra)));
    std::this_thread::sleep_for(std::chrono::milliseconds(3));  // distinct created_at
  }
  for (int n : {3, 7, 11}) {
    auto res = s.patch(s.shop, created[n]["id"], {{"status", "cancelled"}});
    EXPECT_EQ(res.status, 200) << res.body;
  }
  EXPECT_EQ(s.set_status(created[5]["id"], "confirmed").status, 200);

  std::vector<std::string> newest_first;
  for (auto it = created.rbegin(); it != created.rend(); ++it) newest_first.push_back((*it)["id"]);
  EXPECT_EQ(s.walk_ids(s.shop, "", 5), newest_first);
  EXPECT_EQ(s.walk_ids(s.shop, "", 100), newest_first);

  json first_page = s.get_json(s.shop, "/v1/orders");
  EXPECT_EQ(first_page["data"].size(), 20u);  // the default limit
  EXPECT_EQ(first_page["has_more"], true);
  EXPECT_TRUE(first_page["next_cursor"].is_string());
  EXPECT_EQ(first_page["data"][0], s.order(newest_first[0]));  // list items are the order

  auto cancelled = s.walk_ids(s.shop, "&status=cancelled", 2);
  EXPECT_EQ(cancelled,
            (std::vector<std::string>{created[11]["id"], created[7]["id"], created[3]["id"]}));
  for (const auto& order : s.walk(s.shop, "&status=cancelled", 10)) {
    EXPECT_EQ(order["status"], "cancelled");
  }
  EXPECT_EQ(s.walk_ids(s.shop, "&status=confirmed", 10),
            (std::vector<std::string>{created[5]["id"]}));
  EXPECT_EQ(s.walk_ids(s.shop, "&status=pending", 7).size(), 19u);
  EXPECT_EQ(s.walk_ids(s.shop, "&status=delivered", 7).size(), 0u);

  // created_since: created at or after the moment.
  const std::string since = created[14]["created_at"];
  std::vector<std::string> expected(newest_first.begin(), newest_first.begin() + 9);
  EXPECT_EQ(s.walk_ids(s.shop, "&created_since=" + since, 4), expected);
  EXPECT_EQ(s.walk_ids(s.shop, "&created_since=2000-01-01T09:00:00%2B09:00", 100).size(), 23u);
  EXPECT_EQ(s.walk_ids(s.shop, "&created_since=2999-01-01T00:00:00Z", 100).size(), 0u);
  EXPECT_EQ(s.walk_ids(s.shop, "&created_since=" + since + "&status=cancelled", 100).size(), 0u);
  EXPECT_EQ(s.walk_ids(s.shop, "&external_id=PO-4", 10),
            (std::vector<std::string>{created[4]["id"]}));
  EXPECT_EQ(s.walk_ids(s.shop, "&external_id=PO-5", 10).size(), 0u);

  for (std::string query : {"limit=0", "limit=101", "limit=abc", "status=gone",
                            "created_since=yesterday", "cursor=bm90LWEtY3Vyc29y", "sort=id"}) {
    auto res = s.get(s.shop, "/v1/orders?" + query);
    EXPECT_EQ(res.status, 400) << query << ": " << res.body;
    EXPECT_EQ(code_of(res), "invalid_request") << query;
    EXPECT_EQ(fields_of(res), std::set<std::string>{query.substr(0, query.find('='))}) << query;
  }
  std::string cursor = first_page["next_cursor"];
  std::string tampered = cursor;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(s.get(s.shop, "/v1/orders?cursor=" + tampered).status, 400);
  EXPECT_EQ(s.get(s.shop, "/v1/orders?cursor=" + cursor).status, 200);
}

TEST(Orders, ReadsCarryAnETagAndIfNoneMatchAnswers304) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 5}})});
  json order = s.create_ok(s.shop, "etag-1", order_body({{"prod_a", 1}}));
  const std::string target = "/v1/orders/" + order["id"].get<std::string>();
  auto read = s.get(s.shop, target);
  ASSERT_EQ(read.status, 200);
  auto etag = read.header("ETag");
  ASSERT_TRUE(etag.has_value());
  EXPECT_TRUE(etag->starts_with("\"")) << *etag << " must be a strong tag";
  EXPECT_EQ(s.get(s.shop, target).header("ETag"), etag) << "stable while nothing changes";

  auto not_modified = s.get(s.shop, target, {{"If-None-Match", *etag}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(not_modified.header("ETag"), etag);
  EXPECT_EQ(s.get(s.shop, target, {{"If-None-Match", "\"something-else\""}}).status, 200);

  ASSERT_EQ(s.patch(s.shop, order["id"], {{"metadata", {{"k", "v"}}}}).status, 200);
  auto changed = s.get(s.shop, target, {{"If-None-Match", *etag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.header("ETag"), etag);
  EXPECT_EQ(json::parse(changed.body)["metadata"], (json{{"k", "v"}}));

  auto unknown = s.get(s.shop, "/v1/orders/ord_doesnotexist000000000000");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(code_of(unknown), "not_found");
  EXPECT_TRUE(is_problem(unknown));
}

TEST(Orders, PartnerCancelsWhilePendingOrConfirmedAndStockIsReleased) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 10}})});
  using Stock = std::pair<std::int64_t, std::int64_t>;

  json pending = s.create_ok(s.shop, "cancel-1", order_body({{"prod_a", 3}}));
  const std::string id = pending["id"];
  EXPECT_EQ(s.stock("prod_a"), (Stock{7, 3}));
  auto cancel = s.patch(s.shop, id, {{"status", "cancelled"}});
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  json cancelled = json::parse(cancel.body);
  EXPECT_EQ(cancelled["status"], "cancelled");
  EXPECT_EQ(statuses_of_history(cancelled), (std::vector<std::string>{"pending", "cancelled"}));
  EXPECT_GE(cancelled["updated_at"].get<std::string>(), pending["updated_at"].get<std::string>());
  EXPECT_EQ(s.order(id), cancelled);
  EXPECT_EQ(s.stock("prod_a"), (Stock{10, 0}));
  EXPECT_EQ(s.order_event_types(id),
            (std::vector<std::string>{"order.created", "order.cancelled"}));
  auto stock_events = s.inventory_events("prod_a");
  ASSERT_EQ(stock_events.size(), 3u);  // import, reserve, release
  EXPECT_EQ(stock_events[2]["data"]["object"]["available"], 10);
  EXPECT_EQ(stock_events[2]["data"]["object"]["reserved"], 0);

  // Cancelling a cancelled order again (not covered by the contract; the plugin answers it as a
  // no-op): whatever the answer, the stock is not released twice and no second event is written.
  auto twice = s.patch(s.shop, id, {{"status", "cancelled"}});
  EXPECT_TRUE(twice.status == 200 ||
              (twice.status == 409 && code_of(twice) == "invalid_transition"))
      << twice.status << " " << twice.body;
  EXPECT_EQ(s.order(id), cancelled);
  EXPECT_EQ(s.stock("prod_a"), (Stock{10, 0}));
  EXPECT_EQ(s.order_event_types(id),
            (std::vector<std::string>{"order.created", "order.cancelled"}));
  EXPECT_EQ(s.inventory_events("prod_a").size(), 3u);

  json confirmed = s.create_ok(s.shop, "cancel-2", order_body({{"prod_a", 4}}));
  ASSERT_EQ(s.set_status(confirmed["id"], "confirmed").status, 200);
  EXPECT_EQ(s.stock("prod_a"), (Stock{6, 4}));
  auto cancel_confirmed = s.patch(s.shop, confirmed["id"], {{"status", "cancelled"}});
  ASSERT_EQ(cancel_confirmed.status, 200) << cancel_confirmed.body;
  EXPECT_EQ(statuses_of_history(json::parse(cancel_confirmed.body)),
            (std::vector<std::string>{"pending", "confirmed", "cancelled"}));
  EXPECT_EQ(s.stock("prod_a"), (Stock{10, 0}));

  // Shipped (or delivered): too late.
  json shipped = s.create_ok(s.shop, "cancel-3", order_body({{"prod_a", 2}}));
  ASSERT_EQ(s.set_status(shipped["id"], "confirmed").status, 200);
  ASSERT_EQ(s.ship(shipped["id"]).status, 201);
  EXPECT_EQ(s.stock("prod_a"), (Stock{8, 0}));
  auto too_late = s.patch(s.shop, shipped["id"], {{"status", "cancelled"}});
  EXPECT_EQ(too_late.status, 409) << too_late.body;
  EXPECT_EQ(code_of(too_late), "invalid_transition");
  EXPECT_TRUE(is_problem(too_late));
  EXPECT_EQ(s.order(shipped["id"])["status"], "shipped");
  EXPECT_EQ(s.stock("prod_a"), (Stock{8, 0}));

  // The partner moves nothing forward, and nonsense is refused.
  json other = s.create_ok(s.shop, "cancel-4", order_body({{"prod_a", 1}}));
  for (const json& patch : {json{{"status", "confirmed"}}, json{{"status", "shipped"}}}) {
    auto refused = s.patch(s.shop, other["id"], patch);
    EXPECT_TRUE(refused.status == 400 || refused.status == 409) << refused.body;
  }
  auto bogus = s.patch(s.shop, other["id"], {{"status", "teleported"}});
  EXPECT_EQ(bogus.status, 400) << bogus.body;
  EXPECT_EQ(fields_of(bogus), std::set<std::string>{"status"});
  auto unknown_field = s.patch(s.shop, other["id"], {{"items", json::array()}});
  EXPECT_EQ(unknown_field.status, 400) << unknown_field.body;
  EXPECT_EQ(fields_of(unknown_field), std::set<std::string>{"items"});
  EXPECT_EQ(s.order(other["id"])["status"], "pending");
  EXPECT_EQ(s.order(other["id"])["updated_at"], other["updated_at"]);
  EXPECT_EQ(s.stock("prod_a"), (Stock{7, 1}));
  auto missing = s.patch(s.shop, "ord_doesnotexist000000000000", {{"status", "cancelled"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(code_of(missing), "not_found");
}

TEST(Orders, PatchMergesMetadataAndNullDeletesAKey) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 10}})});
  json order = s.create_ok(s.shop, "meta-1",
                           order_body({{"prod_a", 1}}, {{"metadata", {{"a", "1"}, {"b", "2"}}}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  auto res = s.patch(s.shop, order["id"], {{"metadata", {{"b", nullptr}, {"c", "3"}}}});
  ASSERT_EQ(res.status, 200) << res.body;
  json patched = json::parse(res.body);
  EXPECT_EQ(patched["metadata"], (json{{"a", "1"}, {"c", "3"}}));
  EXPECT_EQ(patched["status"], "pending");
  EXPECT_EQ(patched["items"], order["items"]);
  EXPECT_GT(patched["updated_at"].get<std::string>(), order["updated_at"].get<std::string>());
  EXPECT_EQ(patched["created_at"], order["created_at"]);
  EXPECT_EQ(s.order(order["id"]), patched);
  EXPECT_EQ(s.stock("prod_a"), (std::pair<std::int64_t, std::int64_t>{9, 1}));

  auto bad = s.patch(s.shop, order["id"], {{"metadata", {{"n", 5}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(fields_of(bad), std::set<std::string>{"metadata.n"});
  EXPECT_EQ(s.order(order["id"])["metadata"], (json{{"a", "1"}, {"c", "3"}}));

  // Metadata edits stay possible after shipping (only the status is locked).
  ASSERT_EQ(s.set_status(order["id"], "confirmed").status, 200);
  ASSERT_EQ(s.ship(order["id"]).status, 201);
  auto later = s.patch(s.shop, order["id"], {{"metadata", {{"a", nullptr}}}});
  EXPECT_EQ(later.status, 200) << later.body;
  EXPECT_EQ(s.order(order["id"])["metadata"], (json{{"c", "3"}}));
}

TEST(Orders, IfMatchGuardsUpdates) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 10}})});
  json order = s.create_ok(s.shop, "match-1", order_body({{"prod_a", 1}}));
  const std::string id = order["id"];
  std::string etag = *s.get(s.shop, "/v1/orders/" + id).header("ETag");

  auto mismatch =
      s.patch(s.shop, id, {{"metadata", {{"k", "v"}}}}, {{"If-Match", "\"not-the-tag\""}});
  EXPECT_EQ(mismatch.status, 412) << mismatch.body;
  EXPECT_EQ(code_of(mismatch), "precondition_failed");
  EXPECT_TRUE(is_problem(mismatch));
  auto cancel_mismatch =
      s.patch(s.shop, id, {{"status", "cancelled"}}, {{"If-Match", "\"not-the-tag\""}});
  EXPECT_EQ(cancel_mismatch.status, 412);
  EXPECT_EQ(s.order(id), order);
  EXPECT_EQ(s.stock("prod_a"), (std::pair<std::int64_t, std::int64_t>{9, 1}));

  auto matching = s.patch(s.shop, id, {{"metadata", {{"k", "v"}}}}, {{"If-Match", etag}});
  EXPECT_EQ(matching.status, 200) << matching.body;
  auto stale = s.patch(s.shop, id, {{"metadata", {{"k", "w"}}}}, {{"If-Match", etag}});
  EXPECT_EQ(stale.status, 412) << "the tag changed with the update";
  EXPECT_EQ(s.order(id)["metadata"], (json{{"k", "v"}}));

  std::string fresh = *s.get(s.shop, "/v1/orders/" + id).header("ETag");
  EXPECT_NE(fresh, etag);
  auto cancel = s.patch(s.shop, id, {{"status", "cancelled"}}, {{"If-Match", fresh}});
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(s.stock("prod_a"), (std::pair<std::int64_t, std::int64_t>{10, 0}));
}

TEST(Orders, OperatorConfirmsShipsAndDelivers) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 10}}), stocked("prod_b", 500, {{"icn-1", 10}})});
  using Stock = std::pair<std::int64_t, std::int64_t>;
  json order = s.create_ok(s.shop, "ship-1", order_body({{"prod_a", 3}, {"prod_b", 1}}));
  const std::string id = order["id"];
  const std::string shipment_target = "/v1/orders/" + id + "/shipment";

  auto not_yet = s.get(s.shop, shipment_target);
  EXPECT_EQ(not_yet.status, 404);
  EXPECT_EQ(code_of(not_yet), "not_found");
  // Not from pending straight to shipped, and "shipped" is not a plain status change.
  auto early = s.ship(id);
  EXPECT_EQ(early.status, 409) << early.body;
  EXPECT_EQ(code_of(early), "invalid_transition");

  auto confirm = s.set_status(id, "confirmed");
  ASSERT_EQ(confirm.status, 200) << confirm.body;
  EXPECT_EQ(s.order(id)["status"], "confirmed");
  EXPECT_EQ(s.stock("prod_a"), (Stock{7, 3}));
  auto events = s.order_events(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["type"], "order.status_changed");
  EXPECT_EQ(events[1]["partner_id"], s.shop.id);
  EXPECT_EQ(events[1]["data"]["object"]["status"], "confirmed");
  EXPECT_EQ(events[1]["data"]["previous_attributes"]["status"], "pending");

  auto via_status = s.set_status(id, "shipped");
  EXPECT_EQ(via_status.status, 409) << via_status.body;
  EXPECT_EQ(code_of(via_status), "invalid_transition");
  auto backwards = s.set_status(id, "pending");
  EXPECT_EQ(backwards.status, 409) << backwards.body;
  EXPECT_EQ(s.set_status(id, "teleported").status, 400);
  EXPECT_EQ(s.set_status("ord_doesnotexist000000000000", "confirmed").status, 404);
  EXPECT_EQ(
      s.admin.send("POST", "/orders/" + id + "/status", "{\"status\":\"delivered\"}", "bad").status,
      401);
  EXPECT_EQ(s.order(id)["status"], "confirmed");
  EXPECT_EQ(s.ship(id, {{"carrier", "CJ Logistics"}}).status, 400);  // no tracking number

  json tracking = json::array({{{"status", "picked_up"},
                                {"description", "Picked up at Icheon hub"},
                                {"location", "Icheon"},
                                {"at", "2026-11-26T09:00:00.000Z"}}});
  auto shipped = s.ship(
      id,
      {{"carrier", "CJ Logistics"}, {"tracking_number", "6401-2345-6789"}, {"events", tracking}});
  ASSERT_EQ(shipped.status, 201) << shipped.body;
  json after_ship = s.order(id);
  EXPECT_EQ(after_ship["status"], "shipped");
  EXPECT_EQ(statuses_of_history(after_ship),
            (std::vector<std::string>{"pending", "confirmed", "shipped"}));
  ASSERT_TRUE(after_ship["shipment"].is_object()) << after_ship.dump();
  EXPECT_EQ(after_ship["shipment"]["carrier"], "CJ Logistics");
  EXPECT_EQ(after_ship["shipment"]["status"], "in_transit");
  auto shipment_res = s.get(s.shop, shipment_target);
  ASSERT_EQ(shipment_res.status, 200) << shipment_res.body;
  json shipment = json::parse(shipment_res.body);
  EXPECT_EQ(shipment["order_id"], id);
  EXPECT_EQ(shipment["carrier"], "CJ Logistics");
  EXPECT_EQ(shipment["tracking_number"], "6401-2345-6789");
  EXPECT_EQ(shipment["status"], "in_transit");
  ASSERT_EQ(shipment["events"].size(), 1u);
  EXPECT_EQ(shipment["events"][0]["status"], "picked_up");
  EXPECT_TRUE(shipment["shipped_at"].is_string());
  EXPECT_TRUE(shipment["delivered_at"].is_null());
  EXPECT_EQ(shipment, after_ship["shipment"]);
  // Shipping takes the units out of `reserved`; `available` stays.
  EXPECT_EQ(s.stock("prod_a"), (Stock{7, 0}));
  EXPECT_EQ(s.stock("prod_b"), (Stock{9, 0}));
  EXPECT_EQ(s.order_event_types(id).back(), "order.shipped");
  auto a_events = s.inventory_events("prod_a");
  ASSERT_EQ(a_events.size(), 3u);  // import, reserve, ship
  EXPECT_EQ(a_events[2]["data"]["object"]["reserved"], 0);
  EXPECT_EQ(a_events[2]["data"]["object"]["available"], 7);
  // Posting the shipment again corrects it and replaces its tracking events; the order stays
  // shipped, no stock moves and no second order.shipped is written.
  tracking.push_back({{"status", "in_transit"},
                      {"description", "Left Icheon hub"},
                      {"at", "2026-11-26T12:00:00.000Z"}});
  auto updated = s.ship(
      id,
      {{"carrier", "CJ Logistics"}, {"tracking_number", "6401-2345-6790"}, {"events", tracking}});
  EXPECT_EQ(updated.status, 200) << updated.body;
  json corrected = s.get_json(s.shop, shipment_target);
  EXPECT_EQ(corrected["tracking_number"], "6401-2345-6790");
  EXPECT_EQ(corrected["events"].size(), 2u);
  EXPECT_EQ(corrected["shipped_at"], shipment["shipped_at"]);
  EXPECT_EQ(s.order(id)["status"], "shipped");
  EXPECT_EQ(s.stock("prod_a"), (Stock{7, 0}));
  EXPECT_EQ(s.inventory_events("prod_a").size(), 3u);
  EXPECT_EQ(s.order_event_types(id),
            (std::vector<std::string>{"order.created", "order.status_changed", "order.shipped"}));

  auto delivered = s.set_status(id, "delivered");
  ASSERT_EQ(delivered.status, 200) << delivered.body;
  json done = s.order(id);
  EXPECT_EQ(done["status"], "delivered");
  EXPECT_EQ(statuses_of_history(done),
            (std::vector<std::string>{"pending", "confirmed", "shipped", "delivered"}));
  EXPECT_EQ(done["shipment"]["status"], "delivered");
  EXPECT_TRUE(done["shipment"]["delivered_at"].is_string());
  EXPECT_EQ(s.get_json(s.shop, shipment_target)["status"], "delivered");
  EXPECT_EQ(s.order_event_types(id).back(), "order.delivered");
  EXPECT_EQ(s.order_events(id).back()["data"]["object"]["status"], "delivered");
  EXPECT_EQ(s.stock("prod_a"), (Stock{7, 0}));
  EXPECT_EQ(s.inventory_events("prod_a").size(), 3u);  // delivery moves no stock

  auto after_delivery = s.set_status(id, "cancelled");
  EXPECT_EQ(after_delivery.status, 409);
  EXPECT_EQ(code_of(after_delivery), "invalid_transition");
  EXPECT_EQ(s.patch(s.shop, id, {{"status", "cancelled"}}).status, 409);

  // Every order event is the partner's, carries the order, and came in this order.
  EXPECT_EQ(s.order_event_types(id),
            (std::vector<std::string>{"order.created", "order.status_changed", "order.shipped",
                                      "order.delivered"}));
  for (const auto& event : s.order_events(id)) {
    EXPECT_EQ(event["partner_id"], s.shop.id) << event.dump();
    EXPECT_EQ(event["data"]["object"]["id"], id);
    EXPECT_EQ(event["api_version"], "v1");
  }
}

TEST(Orders, OperatorCancelReleasesStockAndWritesOrderCancelled) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 10}})});
  json order = s.create_ok(s.shop, "op-cancel-1", order_body({{"prod_a", 4}}));
  auto res = s.set_status(order["id"], "cancelled");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(s.order(order["id"])["status"], "cancelled");
  EXPECT_EQ(s.stock("prod_a"), (std::pair<std::int64_t, std::int64_t>{10, 0}));
  EXPECT_EQ(s.order_event_types(order["id"]).back(), "order.cancelled");
}

TEST(Orders, PartnersNeverSeeEachOthersOrders) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 10}})});
  Partner b = s.partner("Shop B");
  json mine = s.create_ok(s.shop, "iso-1", order_body({{"prod_a", 1}}, {{"external_id", "A-1"}}));
  const std::string id = mine["id"];
  ASSERT_EQ(s.set_status(id, "confirmed").status, 200);
  ASSERT_EQ(s.ship(id).status, 201);
  ASSERT_EQ(s.get(s.shop, "/v1/orders/" + id + "/shipment").status, 200);

  const std::string absent = "ord_doesnotexist000000000000";
  for (const std::string& suffix : {std::string(), std::string("/shipment")}) {
    auto theirs = s.get(b, "/v1/orders/" + id + suffix);
    auto nothing = s.get(b, "/v1/orders/" + absent + suffix);
    EXPECT_EQ(theirs.status, 404) << suffix << ": " << theirs.body;
    EXPECT_EQ(code_of(theirs), "not_found");
    EXPECT_EQ(theirs.status, nothing.status);
    EXPECT_EQ(json::parse(theirs.body).value("title", ""),
              json::parse(nothing.body).value("title", ""));
  }
  auto patch = s.patch(b, id, {{"metadata", {{"x", "y"}}}});
  EXPECT_EQ(patch.status, 404) << patch.body;
  EXPECT_EQ(code_of(patch), "not_found");
  auto cancel = s.patch(b, id, {{"status", "cancelled"}});
  EXPECT_EQ(cancel.status, 404);
  EXPECT_EQ(s.get(b, "/v1/orders/" + id, {{"If-None-Match", "*"}}).status, 404);

  EXPECT_EQ(s.walk(b, "", 100).size(), 0u);
  EXPECT_EQ(s.walk(b, "&external_id=A-1", 100).size(), 0u);
  EXPECT_EQ(s.walk(b, "&status=shipped", 100).size(), 0u);
  json a_view = s.order(id);
  EXPECT_EQ(a_view["metadata"], json::object());
  EXPECT_EQ(a_view["status"], "shipped");

  // B's own order is B's alone, in the other direction too.
  json theirs = s.create_ok(b, "iso-1", order_body({{"prod_a", 1}}));
  EXPECT_EQ(s.get(s.shop, "/v1/orders/" + theirs["id"].get<std::string>()).status, 404);
  EXPECT_EQ(s.walk_ids(s.shop, "", 100), (std::vector<std::string>{id}));
  EXPECT_EQ(s.walk_ids(b, "", 100), (std::vector<std::string>{theirs["id"]}));
  EXPECT_EQ(s.order_events(theirs["id"])[0]["partner_id"], b.id);
}

TEST(Orders, EachRouteNeedsItsScope) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 10}})});
  json order = s.create_ok(s.shop, "scope-1", order_body({{"prod_a", 1}}));
  const std::string id = order["id"];
  Partner reader{s.shop.id, s.another_key(s.shop, {{"scopes", {"orders:read"}}})};
  Partner catalog_only{s.shop.id, s.another_key(s.shop, {{"scopes", {"products:read"}}})};

  EXPECT_EQ(s.get(reader, "/v1/orders/" + id).status, 200);
  EXPECT_EQ(s.get(reader, "/v1/orders").status, 200);
  EXPECT_EQ(s.patch(reader, id, {{"status", "cancelled"}}).status, 403);
  EXPECT_EQ(s.get(catalog_only, "/v1/orders/" + id).status, 403);
  EXPECT_EQ(s.get(catalog_only, "/v1/orders").status, 403);
  EXPECT_EQ(s.get(catalog_only, "/v1/orders/" + id + "/shipment").status, 403);
  EXPECT_EQ(s.create(catalog_only, "scope-2", order_body({{"prod_a", 1}})).status, 403);
  EXPECT_EQ(s.order(id)["status"], "pending");
  EXPECT_EQ(http_request(s.gw.port, "GET", "/v1/orders").status, 401);
}

}  // namespace
}  // namespace portico::test::orders
