// The order as partners see it: member order and shapes of order_text / shipment_json, money in
// the order's currency, order_text's bytes against nlohmann's dump of the same value, order
// events, and the status machine.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
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

// The order as a value built member by member and dumped: what order_text must write, byte for
// byte (the renderer it replaced).
std::string dumped_order(const ro::Order& o) {
  const auto money = [&](std::int64_t amount) {
    return nlohmann::ordered_json{{"amount", amount}, {"currency", o.currency}};
  };
  nlohmann::ordered_json out;
  out["id"] = o.id;
  out["external_id"] =
      o.external_id ? nlohmann::ordered_json(*o.external_id) : nlohmann::ordered_json(nullptr);
  out["status"] = o.status;
  out["items"] = nlohmann::ordered_json::array();
  for (const auto& item : o.items) {
    out["items"].push_back({{"product_id", item.product_id},
                            {"sku", item.sku},
                            {"name", item.name},
                            {"quantity", item.quantity},
                            {"unit_price", money(item.unit_amount)}});
  }
  out["total"] = money(o.total_amount);
  out["shipping_address"] = o.shipping_address;
  out["metadata"] = o.metadata;
  out["status_history"] = nlohmann::ordered_json::array();
  for (const auto& change : o.history) {
    out["status_history"].push_back({{"status", change.status}, {"at", change.at}});
  }
  out["shipment"] = o.shipment ? ro::shipment_json(*o.shipment) : nlohmann::ordered_json(nullptr);
  out["created_at"] = o.created_at;
  out["updated_at"] = o.updated_at;
  return out.dump();
}

nlohmann::ordered_json order_json(const ro::Order& o) {
  return nlohmann::ordered_json::parse(ro::order_text(o));
}

std::vector<std::string> keys_of(const nlohmann::ordered_json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

TEST(OrderRecords, OrderTextHasTheContractShapeInOrder) {
  nlohmann::ordered_json j = order_json(sample_order());
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
  EXPECT_TRUE(order_json(o)["external_id"].is_null());
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
  nlohmann::ordered_json order = order_json(o);
  EXPECT_EQ(order["shipment"], ro::shipment_json(s));
  EXPECT_EQ(ro::order_text(o), dumped_order(o));
  EXPECT_EQ(order["shipment"]["delivered_at"], "2026-11-28T00:00:00.000Z");
}

// Texts of every kind in every string of the order: plain, escaped (quotes, backslashes, control
// characters), non-ASCII UTF-8; any number of items and status changes; numbers at their bounds.
TEST(OrderRecords, OrderTextIsTheDumpOfTheValueByteForByte) {
  std::mt19937 random(20261203);
  const std::vector<std::string> texts = {
      "",
      "ord_01HZX",
      "PO \"quoted\"",
      "back\\slash",
      "tab\there\nline",
      std::string("nul\0byte", 8),
      "\x7f del",
      "이어폰 케이스",
      "emoji \xF0\x9F\x98\x80",
      "2026-11-26T00:00:00.000Z",
      "a very long name that is well past the fifteen bytes of a short string"};
  const auto text = [&] { return texts[random() % texts.size()]; };
  const std::vector<std::int64_t> numbers = {0, 1, -1, 59000, INT64_MAX, INT64_MIN};
  for (int round = 0; round < 500; ++round) {
    ro::Order o = sample_order();
    o.id = text();
    if (random() % 3 == 0) {
      o.external_id.reset();
    } else {
      o.external_id = text();
    }
    o.status = text();
    o.currency = text();
    o.total_amount = numbers[random() % numbers.size()];
    o.shipping_address = {{text(), text()}, {"line1", text()}};
    o.metadata = random() % 2 ? nlohmann::json::object() : nlohmann::json{{text(), 7}};
    o.items.clear();
    for (int i = static_cast<int>(random() % 4); i > 0; --i) {
      o.items.push_back(
          {text(), text(), text(), numbers[random() % numbers.size()], numbers[random() % 6]});
    }
    o.history.clear();
    for (int i = static_cast<int>(random() % 3); i > 0; --i) o.history.push_back({text(), text()});
    if (random() % 2) {
      ro::Shipment s;
      s.order_id = o.id;
      s.carrier = text();
      s.tracking_number = text();
      o.shipment = s;
    }
    o.created_at = text();
    o.updated_at = text();
    ASSERT_EQ(ro::order_text(o), dumped_order(o)) << "round " << round;
    ASSERT_EQ(ro::order_text(o, o.shipping_address.dump(), o.metadata.dump()), dumped_order(o));
  }
}

TEST(OrderRecords, OrderTextRefusesInvalidUtf8AsDumpDoes) {
  ro::Order o = sample_order();
  o.items[1].name = "bad \xC3 byte";
  EXPECT_THROW(dumped_order(o), nlohmann::json::type_error);
  EXPECT_THROW(ro::order_text(o), nlohmann::json::type_error);
}

TEST(OrderRecords, AnOrderEventCarriesTheOrderAndWhatChanged) {
  const ro::Order o = sample_order();
  const portico::PreparedEvent event =
      ro::order_event("order.cancelled", o, ro::order_text(o), {{"status", "pending"}});
  EXPECT_EQ(event.type(), "order.cancelled");
  EXPECT_EQ(event.partner_id(), "ptn_1");
  EXPECT_EQ(event.subject(), "ord_1");
  EXPECT_EQ(event.data_json(), "{\"object\":" + ro::order_text(o) +
                                   ",\"previous_attributes\":{\"status\":\"pending\"}}");
  EXPECT_EQ(ro::order_event("order.created", o, ro::order_text(o)).data_json(),
            "{\"object\":" + ro::order_text(o) + "}");
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
