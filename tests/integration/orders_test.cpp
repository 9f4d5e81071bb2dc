// Orders through the real binary, creation: the Idempotency-Key (replay, conflict, per-partner
// keys, only successes stored), validation listing every problem, all-or-nothing stock
// reservation and external ids. Reads, changes, events and isolation: orders_lifecycle_test.cpp.
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

TEST(Orders, CreateAnswers201WithTheOrderItsLocationAndCatalogPrices) {
  Store s;
  s.import({stocked("prod_tea", 4500, {{"icn-1", 10}}),
            stocked("prod_cup", 12000, {{"icn-1", 3}, {"pus-1", 4}})});
  json body = order_body({{"prod_tea", 2}, {"prod_cup", 5}},
                         {{"external_id", "PO-1001"}, {"metadata", {{"channel", "app"}}}});
  auto res = s.create(s.shop, "create-1", body);
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(res.header("Content-Type"), "application/json");
  EXPECT_FALSE(res.header("Idempotent-Replayed").has_value());
  json order = json::parse(res.body);
  const std::string id = order["id"];
  EXPECT_TRUE(id.starts_with("ord_")) << id;
  EXPECT_EQ(res.header("Location"), "/v1/orders/" + id);
  EXPECT_EQ(order["external_id"], "PO-1001");
  EXPECT_EQ(order["status"], "pending");
  ASSERT_EQ(order["items"].size(), 2u);
  EXPECT_EQ(order["items"][0], (json{{"product_id", "prod_tea"},
                                     {"sku", "SKU-prod_tea"},
                                     {"name", "상품 / Product prod_tea"},
                                     {"quantity", 2},
                                     {"unit_price", {{"amount", 4500}, {"currency", "KRW"}}}}));
  EXPECT_EQ(order["items"][1], (json{{"product_id", "prod_cup"},
                                     {"sku", "SKU-prod_cup"},
                                     {"name", "상품 / Product prod_cup"},
                                     {"quantity", 5},
                                     {"unit_price", {{"amount", 12000}, {"currency", "KRW"}}}}));
  EXPECT_EQ(order["total"], (json{{"amount", 2 * 4500 + 5 * 12000}, {"currency", "KRW"}}));
  const json sent_address = address();
  for (const auto& [field, value] : sent_address.items()) {
    EXPECT_EQ(order["shipping_address"][field], value) << field;
  }
  EXPECT_EQ(order["metadata"], (json{{"channel", "app"}}));
  ASSERT_EQ(order["status_history"].size(), 1u);
  EXPECT_EQ(order["status_history"][0]["status"], "pending");
  EXPECT_EQ(order["status_history"][0]["at"], order["created_at"]);
  EXPECT_TRUE(order["shipment"].is_null());
  EXPECT_EQ(order["created_at"].get<std::string>().size(), 24u);  // 2026-11-26T10:00:00.000Z
  EXPECT_EQ(order["updated_at"], order["created_at"]);

  // The order as created is the order as read, byte for byte (the answer is built from memory).
  auto read = s.get(s.shop, "/v1/orders/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.header("Content-Type"), "application/json");
  EXPECT_EQ(read.body, res.body);

  // Reserved: available − q, reserved + q, across the cup's two warehouses.
  EXPECT_EQ(s.stock("prod_tea"), (std::pair<std::int64_t, std::int64_t>{8, 2}));
  EXPECT_EQ(s.stock("prod_cup"), (std::pair<std::int64_t, std::int64_t>{2, 5}));

  // Totals use the price at order time: a later price change does not touch the order.
  json repriced = stocked("prod_tea", 9900, {});
  repriced.erase("inventory");
  ASSERT_EQ(s.admin.call("PUT", "/products/prod_tea", repriced).status, 200);
  EXPECT_EQ(s.order(id), order);
  json second = s.create_ok(s.shop, "create-2", order_body({{"prod_tea", 1}}));
  // Rendered ahead from the first order's price, then priced again inside the transaction: the
  // answer, the stored order and its order.created all carry the new price.
  EXPECT_EQ(second["items"][0]["unit_price"]["amount"], 9900);
  EXPECT_EQ(second["total"]["amount"], 9900);
  EXPECT_EQ(s.order(second["id"]), second);
  const auto created = s.order_events(second["id"]);
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0]["data"]["object"], second);
  EXPECT_TRUE(second["external_id"].is_null());
  EXPECT_EQ(second["metadata"], json::object());
  EXPECT_NE(second["id"], order["id"]);
}

TEST(Orders, CreateNeedsAnIdempotencyKeyAndTheOrdersWriteScope) {
  Store s;
  s.import({stocked("prod_tea", 4500, {{"icn-1", 10}})});
  const std::string body = order_body({{"prod_tea", 1}}).dump();

  auto missing = s.create_raw(s.shop.key, std::nullopt, body);
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_TRUE(is_problem(missing));
  EXPECT_EQ(code_of(missing), "invalid_request");
  EXPECT_TRUE(missing.header("X-Request-Id").has_value());
  EXPECT_EQ(s.create_raw(s.shop.key, "", body).status, 400);
  auto too_long = s.create_raw(s.shop.key, std::string(256, 'k'), body);
  EXPECT_EQ(too_long.status, 400) << too_long.body;
  EXPECT_EQ(code_of(too_long), "invalid_request");
  EXPECT_EQ(s.stock("prod_tea"), (std::pair<std::int64_t, std::int64_t>{10, 0}));
  EXPECT_EQ(s.walk(s.shop, "", 100).size(), 0u);

  EXPECT_EQ(s.create_raw(s.shop.key, std::string(255, 'k'), body).status, 201);

  std::string read_only = s.another_key(s.shop, {{"scopes", {"orders:read"}}});
  auto forbidden = s.create_raw(read_only, "scope-1", body);
  EXPECT_EQ(forbidden.status, 403) << forbidden.body;
  EXPECT_TRUE(is_problem(forbidden));
  auto anonymous =
      http_request(s.gw.port, "POST", "/v1/orders",
                   {{"Idempotency-Key", "anon-1"}, {"Content-Type", "application/json"}}, body);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_TRUE(anonymous.header("WWW-Authenticate").has_value());

  auto malformed = s.create_raw(s.shop.key, "malformed-1", "{\"items\": [");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(code_of(malformed), "invalid_request");
  auto not_an_object = s.create_raw(s.shop.key, "array-1", "[]");
  EXPECT_EQ(not_an_object.status, 400);
  EXPECT_EQ(code_of(not_an_object), "invalid_request");
  EXPECT_EQ(s.stock("prod_tea"), (std::pair<std::int64_t, std::int64_t>{9, 1}));
}

TEST(Orders, SameKeyAndSameBodyReplaysTheStoredAnswer) {
  Store s;
  s.import({stocked("prod_tea", 4500, {{"icn-1", 10}})});
  json body = order_body({{"prod_tea", 2}}, {{"metadata", {{"note", "leave at door"}}}});
  auto first = s.create(s.shop, "replay-1", body);
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string id = json::parse(first.body)["id"];

  // Byte-identical, and the same JSON written with other member order and whitespace.
  for (const std::string& bytes : {body.dump(), reshuffled(body), body.dump(4)}) {
    auto again = s.create_raw(s.shop.key, "replay-1", bytes);
    EXPECT_EQ(again.status, 201) << bytes << "\n" << again.body;
    EXPECT_EQ(again.header("Idempotent-Replayed"), "true") << bytes;
    EXPECT_EQ(again.body, first.body) << bytes;
    EXPECT_EQ(again.header("Location"), first.header("Location"));
  }
  // One order, stock reserved once, one order.created.
  EXPECT_EQ(s.walk_ids(s.shop, "", 100), (std::vector<std::string>{id}));
  EXPECT_EQ(s.stock("prod_tea"), (std::pair<std::int64_t, std::int64_t>{8, 2}));
  EXPECT_EQ(s.order_event_types(id), (std::vector<std::string>{"order.created"}));
  EXPECT_EQ(s.inventory_events("prod_tea").size(), 2u);  // the import's and the reservation's

  // Same key, another body: 422, nothing created.
  for (const json& other :
       {order_body({{"prod_tea", 3}}, {{"metadata", {{"note", "leave at door"}}}}),
        order_body({{"prod_tea", 2}}, {{"metadata", {{"note", "ring"}}}}),
        order_body({{"prod_tea", 2}})}) {
    auto conflict = s.create(s.shop, "replay-1", other);
    EXPECT_EQ(conflict.status, 422) << other.dump() << "\n" << conflict.body;
    EXPECT_EQ(code_of(conflict), "idempotency_conflict");
    EXPECT_TRUE(is_problem(conflict));
    EXPECT_FALSE(conflict.header("Idempotent-Replayed").has_value());
  }
  EXPECT_EQ(s.stock("prod_tea"), (std::pair<std::int64_t, std::int64_t>{8, 2}));
  EXPECT_EQ(s.walk(s.shop, "", 100).size(), 1u);

  // The first answer is still what the key replays.
  auto later = s.create(s.shop, "replay-1", body);
  EXPECT_EQ(later.status, 201);
  EXPECT_EQ(later.body, first.body);

  // Keys are per partner: B's "replay-1" is B's own new order.
  Partner b = s.partner("Shop B");
  auto theirs = s.create(b, "replay-1", body);
  ASSERT_EQ(theirs.status, 201) << theirs.body;
  EXPECT_FALSE(theirs.header("Idempotent-Replayed").has_value());
  EXPECT_NE(json::parse(theirs.body)["id"], id);
  EXPECT_EQ(s.walk(b, "", 100).size(), 1u);
  EXPECT_EQ(s.walk(s.shop, "", 100).size(), 1u);
  EXPECT_EQ(s.stock("prod_tea"), (std::pair<std::int64_t, std::int64_t>{6, 4}));
  // And another key of the same partner shares the partner's keys.
  std::string second_key = s.another_key(s.shop);
  auto same_partner = s.create_raw(second_key, "replay-1", body.dump());
  EXPECT_EQ(same_partner.status, 201);
  EXPECT_EQ(same_partner.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(same_partner.body, first.body);
}

TEST(Orders, AQuotedIdempotencyKeyIsTheSameKeyAsTheBareOne) {
  Store s;
  s.import({stocked("prod_tea", 4500, {{"icn-1", 10}})});
  json body = order_body({{"prod_tea", 1}});
  auto quoted = s.create(s.shop, "\"quoted-1\"", body);
  ASSERT_EQ(quoted.status, 201) << quoted.body;
  auto bare = s.create(s.shop, "quoted-1", body);
  EXPECT_EQ(bare.status, 201);
  EXPECT_EQ(bare.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(bare.body, quoted.body);
  EXPECT_EQ(s.walk(s.shop, "", 100).size(), 1u);
}

TEST(Orders, OnlySuccessfulAnswersAreStoredUnderAKey) {
  Store s;
  s.import({stocked("prod_last", 30000, {{"icn-1", 1}})});
  json body = order_body({{"prod_last", 2}});

  for (int attempt = 0; attempt < 2; ++attempt) {
    auto short_of_stock = s.create(s.shop, "retry-1", body);
    EXPECT_EQ(short_of_stock.status, 409) << short_of_stock.body;
    EXPECT_EQ(code_of(short_of_stock), "insufficient_inventory");
    EXPECT_FALSE(short_of_stock.header("Idempotent-Replayed").has_value());
  }
  auto restock = s.admin.call("PUT", "/products/prod_last/inventory",
                              {{"warehouses", {{{"id", "icn-1"}, {"available", 5}}}}});
  ASSERT_EQ(restock.status, 200) << restock.body;
  auto after_restock = s.create(s.shop, "retry-1", body);
  ASSERT_EQ(after_restock.status, 201) << after_restock.body;
  EXPECT_FALSE(after_restock.header("Idempotent-Replayed").has_value());
  EXPECT_EQ(s.stock("prod_last"), (std::pair<std::int64_t, std::int64_t>{3, 2}));
  auto replayed = s.create(s.shop, "retry-1", body);
  EXPECT_EQ(replayed.status, 201);
  EXPECT_EQ(replayed.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(replayed.body, after_restock.body);

  // A 400 is not kept either: the corrected request under the same key is a new request.
  auto invalid = s.create(s.shop, "retry-2", order_body({{"prod_last", 0}}));
  EXPECT_EQ(invalid.status, 400) << invalid.body;
  auto corrected = s.create(s.shop, "retry-2", order_body({{"prod_last", 1}}));
  EXPECT_EQ(corrected.status, 201) << corrected.body;
  EXPECT_FALSE(corrected.header("Idempotent-Replayed").has_value());
  EXPECT_EQ(s.stock("prod_last"), (std::pair<std::int64_t, std::int64_t>{2, 3}));
  EXPECT_EQ(s.walk(s.shop, "", 100).size(), 2u);
}

TEST(Orders, ValidationListsEveryProblemAtOnce) {
  Store s;
  json catalog = json::array();
  for (const char* id : {"prod_a", "prod_b", "prod_c", "prod_d", "prod_e"}) {
    catalog.push_back(stocked(id, 1000, {{"icn-1", 2000}}));
  }
  catalog.push_back(stocked("prod_off", 1000, {{"icn-1", 10}}, "inactive"));
  s.import(catalog);

  json address_missing_city = address();
  address_missing_city.erase("city");
  address_missing_city["country"] = "Korea";
  json body = order_body({{"prod_a", 0},
                          {"prod_b", 1000},
                          {"prod_c", 1.5},
                          {"prod_d", "2"},
                          {"prod_nope", 1},
                          {"prod_off", 1},
                          {"prod_e", 1},
                          {"prod_e", 2}},
                         {{"shipping_address", address_missing_city},
                          {"colour", "red"},
                          {"metadata", {{"gift", true}}}});
  auto res = s.create(s.shop, "invalid-1", body);
  ASSERT_EQ(res.status, 400) << res.body;
  EXPECT_TRUE(is_problem(res));
  EXPECT_EQ(code_of(res), "invalid_request");
  json problem = json::parse(res.body);
  EXPECT_EQ(problem["status"], 400);
  EXPECT_TRUE(problem.contains("request_id"));
  std::set<std::string> fields = fields_of(res);
  for (const char* expected :
       {"items[0].quantity", "items[1].quantity", "items[2].quantity", "items[3].quantity",
        "items[4].product_id", "items[5].product_id", "items[7].product_id",
        "shipping_address.city", "shipping_address.country", "colour", "metadata.gift"}) {
    EXPECT_EQ(fields.count(expected), 1u) << expected << " missing from " << res.body;
  }
  EXPECT_EQ(fields.count("items[6].product_id"), 0u) << "the first of two lines is fine";
  for (const auto& error : problem["errors"]) {
    EXPECT_FALSE(error.value("message", "").empty()) << error.dump();
  }
  EXPECT_EQ(s.walk(s.shop, "", 100).size(), 0u);
  EXPECT_EQ(s.stock("prod_e"), (std::pair<std::int64_t, std::int64_t>{2000, 0}));

  // One problem alone is reported alone.
  auto alone = [&](const json& request) {
    auto answer = s.create(s.shop, "invalid-alone", request);
    EXPECT_EQ(answer.status, 400) << request.dump() << "\n" << answer.body;
    EXPECT_EQ(code_of(answer), "invalid_request");
    return fields_of(answer);
  };
  using Fields = std::set<std::string>;
  EXPECT_EQ(alone(order_body({{"prod_a", "2"}})), Fields{"items[0].quantity"});
  EXPECT_EQ(alone(order_body({{"prod_a", 1}, {"prod_b", 999}, {"prod_c", -1}})),
            Fields{"items[2].quantity"});
  EXPECT_EQ(alone(order_body({{"prod_a", 1}, {"prod_off", 1}})), Fields{"items[1].product_id"});
  EXPECT_EQ(alone(order_body({{"prod_a", 1}, {"prod_a", 1}})), Fields{"items[1].product_id"});
  EXPECT_TRUE(alone(order_body({})).count("items"));
  json no_items = order_body({});
  no_items.erase("items");
  EXPECT_TRUE(alone(no_items).count("items"));
  json no_address = order_body({{"prod_a", 1}});
  no_address.erase("shipping_address");
  EXPECT_TRUE(alone(no_address).count("shipping_address"));
  json bad_country = order_body({{"prod_a", 1}});
  bad_country["shipping_address"]["country"] = "Republic of Korea";
  EXPECT_EQ(alone(bad_country), Fields{"shipping_address.country"});
  json extra_item_field = order_body({{"prod_a", 1}});
  extra_item_field["items"][0]["price"] = 1;
  EXPECT_EQ(alone(extra_item_field), Fields{"items[0].price"});
  EXPECT_EQ(alone(order_body({{"prod_a", 1}}, {{"metadata", {{"n", 1}, {"ok", "yes"}}}})),
            Fields{"metadata.n"});
  EXPECT_EQ(alone(order_body({{"prod_a", 1}}, {{"metadata", "notes"}})), Fields{"metadata"});
  std::vector<std::pair<std::string, json>> many;
  for (int n = 0; n < 101; ++n) many.emplace_back("prod_a", 1);
  EXPECT_TRUE(alone(order_body(many)).count("items"));

  // The limits themselves are accepted: quantity 999, and 100 lines.
  json hundred = json::array();
  std::vector<std::pair<std::string, json>> lines;
  for (int n = 0; n < 100; ++n) {
    const std::string id = "prod_l" + std::to_string(n);
    hundred.push_back(stocked(id, 100 + n, {{"icn-1", 1}}));
    lines.emplace_back(id, 1);
  }
  s.import(hundred);
  json big = s.create_ok(s.shop, "valid-100", order_body(lines));
  EXPECT_EQ(big["items"].size(), 100u);
  EXPECT_EQ(big["total"]["amount"], 100 * 100 + 99 * 100 / 2);
  json max_quantity = s.create_ok(s.shop, "valid-999", order_body({{"prod_a", 999}}));
  EXPECT_EQ(max_quantity["total"]["amount"], 999000);
  EXPECT_EQ(s.stock("prod_a"), (std::pair<std::int64_t, std::int64_t>{1001, 999}));
}

TEST(Orders, StockIsReservedAllOrNothing) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 5}}),
            stocked("prod_b", 2000, {{"icn-1", 1}, {"pus-1", 1}})});
  using Stock = std::pair<std::int64_t, std::int64_t>;

  auto one_short = s.create(s.shop, "stock-1", order_body({{"prod_a", 3}, {"prod_b", 3}}));
  ASSERT_EQ(one_short.status, 409) << one_short.body;
  EXPECT_TRUE(is_problem(one_short));
  EXPECT_EQ(code_of(one_short), "insufficient_inventory");
  std::set<std::string> fields = fields_of(one_short);
  ASSERT_EQ(fields.size(), 1u) << one_short.body;
  EXPECT_TRUE(fields.begin()->starts_with("items[1]")) << one_short.body;

  auto both_short = s.create(s.shop, "stock-2", order_body({{"prod_a", 6}, {"prod_b", 3}}));
  ASSERT_EQ(both_short.status, 409) << both_short.body;
  EXPECT_EQ(code_of(both_short), "insufficient_inventory");
  fields = fields_of(both_short);
  ASSERT_EQ(fields.size(), 2u) << both_short.body;
  EXPECT_TRUE(fields.begin()->starts_with("items[0]")) << both_short.body;
  EXPECT_TRUE(fields.rbegin()->starts_with("items[1]")) << both_short.body;

  // Nothing reserved, no stock event, no order.
  EXPECT_EQ(s.stock("prod_a"), (Stock{5, 0}));
  EXPECT_EQ(s.stock("prod_b"), (Stock{2, 0}));
  EXPECT_EQ(s.inventory_events("prod_a").size(), 1u);
  EXPECT_EQ(s.inventory_events("prod_b").size(), 1u);
  EXPECT_EQ(s.walk(s.shop, "", 100).size(), 0u);
  EXPECT_EQ(s.events_where("type LIKE 'order.%'").size(), 0u);

  // Enough of both: reserved in one go, across prod_b's two warehouses.
  json order = s.create_ok(s.shop, "stock-3", order_body({{"prod_a", 3}, {"prod_b", 2}}));
  EXPECT_EQ(s.stock("prod_a"), (Stock{2, 3}));
  EXPECT_EQ(s.stock("prod_b"), (Stock{0, 2}));
  json warehouses = s.inventory("prod_b")["warehouses"];
  EXPECT_EQ(warehouses, (json{{{"id", "icn-1"}, {"available", 0}, {"reserved", 1}},
                              {{"id", "pus-1"}, {"available", 0}, {"reserved", 1}}}));

  // Events written with the change: the order and one inventory.changed per product.
  auto created = s.order_events(order["id"]);
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0]["type"], "order.created");
  EXPECT_EQ(created[0]["partner_id"], s.shop.id);
  EXPECT_EQ(created[0]["data"]["object"], order);
  auto a_events = s.inventory_events("prod_a");
  ASSERT_EQ(a_events.size(), 2u);
  EXPECT_EQ(a_events[1]["data"]["object"]["available"], 2);
  EXPECT_EQ(a_events[1]["data"]["object"]["reserved"], 3);
  EXPECT_EQ(a_events[1]["data"]["previous_attributes"]["available"], 5);
  auto b_events = s.inventory_events("prod_b");
  ASSERT_EQ(b_events.size(), 2u);
  EXPECT_EQ(b_events[1]["data"]["object"]["reserved"], 2);

  // Exactly what is left can be taken; one more cannot.
  s.create_ok(s.shop, "stock-4", order_body({{"prod_a", 2}}));
  EXPECT_EQ(s.stock("prod_a"), (Stock{0, 5}));
  auto none_left = s.create(s.shop, "stock-5", order_body({{"prod_a", 1}}));
  EXPECT_EQ(none_left.status, 409);
  EXPECT_EQ(code_of(none_left), "insufficient_inventory");
  EXPECT_EQ(s.stock("prod_a"), (Stock{0, 5}));
}

TEST(Orders, ExternalIdIsUniquePerPartner) {
  Store s;
  s.import({stocked("prod_a", 1000, {{"icn-1", 50}})});
  json first = s.create_ok(s.shop, "ext-1", order_body({{"prod_a", 1}}, {{"external_id", "PO-7"}}));
  auto duplicate =
      s.create(s.shop, "ext-2", order_body({{"prod_a", 2}}, {{"external_id", "PO-7"}}));
  EXPECT_EQ(duplicate.status, 409) << duplicate.body;
  EXPECT_EQ(code_of(duplicate), "duplicate_external_id");
  EXPECT_TRUE(is_problem(duplicate));
  EXPECT_EQ(s.stock("prod_a"), (std::pair<std::int64_t, std::int64_t>{49, 1}));

  Partner b = s.partner("Shop B");
  json theirs = s.create_ok(b, "ext-1", order_body({{"prod_a", 1}}, {{"external_id", "PO-7"}}));
  EXPECT_NE(theirs["id"], first["id"]);

  json mine = s.get_json(s.shop, "/v1/orders?external_id=PO-7");
  ASSERT_EQ(mine["data"].size(), 1u);
  EXPECT_EQ(mine["data"][0]["id"], first["id"]);
  json other = s.get_json(b, "/v1/orders?external_id=PO-7");
  ASSERT_EQ(other["data"].size(), 1u);
  EXPECT_EQ(other["data"][0]["id"], theirs["id"]);
}

}  // namespace
}  // namespace portico::test::orders
