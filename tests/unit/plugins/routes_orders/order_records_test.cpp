// The order as partners see it: member order and shapes of order_json / shipment_json, money in
// the order's currency, and the status machine.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugins/routes_orders/order_records.hpp"

namespace {

namespace ro = portico::routes_orders;

ro::Order sample_order() {
  ro::Order o;
  o.id = "ord_1";
  o.partner_id = "ptn_1";
  o.external_id = "PO-1";
  o.status = ro::kConfirmed;
  o.currency = "KRW";
  o.total_amount = 59000;
  o.shipping_address = {{"name", "Kim"},
                        {"line1", "1 Main"},
                        {"city", "Seoul"},
                        {"postal_code", "04524"},
                        {"country", "KR"}};
  o.metadata = {{"note", "gift"}};
  o.items = {{"prod_a", "SKU-A", "Earbuds", 2, 25000}, {"prod_b", "SKU-B", "Case", 1, 9000}};
  o.history = {{"pending", "2026-11-26T00:00:00.000Z"}, {"confirmed", "2026-11-26T01:00:00.000Z"}};
  o.created_at = "2026-11-26T00:00:00.000Z";
  o.updated_at = "2026-11-26T01:00:00.000Z";
  return o;
}

std::vector<std::string> keys_of(const nlohmann::ordered_json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

TEST(OrderRecords, OrderJsonHasTheContractShapeInOrder) {
  nlohmann::ordered_json j = ro::order_json(sample_order());
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"id", "external_id", "status", "items", "total",
                                                  "shipping_address", "metadata", "status_history",
                                                  "shipment", "created_at", "updated_at"}));
  EXPECT_EQ(j["id"], "ord_1");
  EXPECT_EQ(j["external_id"], "PO-1");
  EXPECT_EQ(j["status"], "confirmed");
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(keys_of(j["items"][0]),
            (std::vector<std::string>{"product_id", "sku", "name", "quantity", "unit_price"}));
  EXPECT_EQ(j["items"][0]["quantity"], 2);
  EXPECT_EQ(j["items"][0]["unit_price"],
            (nlohmann::ordered_json{{"amount", 25000}, {"currency", "KRW"}}));
  EXPECT_EQ(j["total"]["amount"], 59000);
  EXPECT_EQ(j["total"]["currency"], "KRW");
  EXPECT_EQ(j["metadata"]["note"], "gift");
  ASSERT_EQ(j["status_history"].size(), 2u);
  EXPECT_EQ(j["status_history"][1]["status"], "confirmed");
  EXPECT_EQ(j["status_history"][1]["at"], "2026-11-26T01:00:00.000Z");
  EXPECT_TRUE(j["shipment"].is_null());
  EXPECT_EQ(j["created_at"], "2026-11-26T00:00:00.000Z");
  // Internal columns stay internal.
  EXPECT_FALSE(j.contains("partner_id"));
  EXPECT_FALSE(j.contains("version"));
}

TEST(OrderRecords, AbsentExternalIdIsNull) {
  ro::Order o = sample_order();
  o.external_id.reset();
  EXPECT_TRUE(ro::order_json(o)["external_id"].is_null());
}

TEST(OrderRecords, ShipmentJsonAndTheShipmentInsideTheOrder) {
  ro::Order o = sample_order();
  ro::Shipment s;
  s.order_id = o.id;
  s.carrier = "CJ";
  s.tracking_number = "123";
  s.events = nlohmann::json::array({{{"status", "picked_up"},
                                     {"description", nullptr},
                                     {"location", nullptr},
                                     {"at", "2026-11-27T00:00:00.000Z"}}});
  s.shipped_at = "2026-11-27T00:00:00.000Z";
  s.updated_at = s.shipped_at;
  nlohmann::ordered_json j = ro::shipment_json(s);
  EXPECT_EQ(keys_of(j),
            (std::vector<std::string>{"order_id", "carrier", "tracking_number", "status", "events",
                                      "shipped_at", "delivered_at", "updated_at"}));
  EXPECT_EQ(j["status"], "in_transit");
  EXPECT_TRUE(j["delivered_at"].is_null());
  EXPECT_EQ(j["events"][0]["status"], "picked_up");

  s.status = "delivered";
  s.delivered_at = "2026-11-28T00:00:00.000Z";
  o.shipment = s;
  nlohmann::ordered_json order = ro::order_json(o);
  EXPECT_EQ(order["shipment"], ro::shipment_json(s));
  EXPECT_EQ(order["shipment"]["delivered_at"], "2026-11-28T00:00:00.000Z");
}

TEST(OrderRecords, PlainKeepsTheContent) {
  nlohmann::ordered_json j = ro::order_json(sample_order());
  nlohmann::json p = ro::plain(j);
  EXPECT_EQ(p["id"], "ord_1");
  EXPECT_EQ(p["items"][1]["unit_price"]["amount"], 9000);
  EXPECT_EQ(p.size(), j.size());
}

TEST(OrderRecords, TheStatusMachine) {
  using ro::transition_allowed;
  EXPECT_TRUE(transition_allowed("pending", "confirmed"));
  EXPECT_TRUE(transition_allowed("confirmed", "shipped"));
  EXPECT_TRUE(transition_allowed("shipped", "delivered"));
  EXPECT_TRUE(transition_allowed("pending", "cancelled"));
  EXPECT_TRUE(transition_allowed("confirmed", "cancelled"));

  EXPECT_FALSE(transition_allowed("pending", "shipped"));
  EXPECT_FALSE(transition_allowed("pending", "delivered"));
  EXPECT_FALSE(transition_allowed("confirmed", "pending"));
  EXPECT_FALSE(transition_allowed("shipped", "cancelled"));
  EXPECT_FALSE(transition_allowed("shipped", "confirmed"));
  EXPECT_FALSE(transition_allowed("delivered", "cancelled"));
  EXPECT_FALSE(transition_allowed("cancelled", "pending"));
  EXPECT_FALSE(transition_allowed("cancelled", "cancelled"));
  EXPECT_FALSE(transition_allowed("delivered", "delivered"));
  EXPECT_FALSE(transition_allowed("pending", "lost"));
}

TEST(OrderRecords, KnowsTheFiveStatuses) {
  for (const char* s : {"pending", "confirmed", "shipped", "delivered", "cancelled"}) {
    EXPECT_TRUE(ro::is_status(s)) << s;
  }
  for (const char* s : {"", "Pending", "canceled", "in_transit", "lost"}) {
    EXPECT_FALSE(ro::is_status(s)) << s;
  }
}

}  // namespace
