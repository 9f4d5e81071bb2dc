// Shared by the orders integration tests: a running gateway with the catalog and orders plugins,
// partners with keys, stocked products, order bodies, the partner and admin order routes, and
// outbox reads from the database file.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/gateway_fixture.hpp"
#include "tests/integration/products_helpers.hpp"

namespace portico::test::orders {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using products::Admin;
using products::query_db;

struct Partner {
  std::string id;
  std::string key;
};

// A complete shipping address (the optional line2 and phone left out).
inline json address() {
  return {{"name", "김민수 / Minsu Kim"},
          {"line1", "123 Teheran-ro"},
          {"city", "Seoul"},
          {"postal_code", "06234"},
          {"country", "KR"}};
}

// {items: [{product_id, quantity}], shipping_address} plus `extra` members (external_id,
// metadata, ...).
inline json order_body(const std::vector<std::pair<std::string, json>>& lines,
                       const json& extra = json::object()) {
  json items = json::array();
  for (const auto& [product_id, quantity] : lines) {
    items.push_back({{"product_id", product_id}, {"quantity", quantity}});
  }
  json body = {{"items", std::move(items)}, {"shipping_address", address()}};
  body.update(extra);
  return body;
}

// An import item: a product with its price and stock per warehouse ({"icn-1", 10}, ...).
inline json stocked(const std::string& id, std::int64_t price,
                    const std::vector<std::pair<std::string, std::int64_t>>& warehouses,
                    const std::string& status = "active") {
  json stock = json::array();
  for (const auto& [warehouse, available] : warehouses) {
    stock.push_back({{"id", warehouse}, {"available", available}});
  }
  return {{"id", id},
          {"sku", "SKU-" + id},
          {"name", "상품 / Product " + id},
          {"category", "audio"},
          {"price", {{"amount", price}, {"currency", "KRW"}}},
          {"status", status},
          {"inventory", {{"warehouses", std::move(stock)}}}};
}

// The same JSON value with every object's members in reverse order and extra whitespace: the
// same request to a reader, different bytes on the wire.
inline std::string reshuffled(const json& value) {
  if (value.is_object()) {
    std::vector<std::string> members;
    for (auto it = value.begin(); it != value.end(); ++it) {
      members.push_back(json(it.key()).dump() + " :  " + reshuffled(it.value()));
    }
    std::reverse(members.begin(), members.end());
    std::string out = "{\n  ";
    for (std::size_t i = 0; i < members.size(); ++i) out += (i ? ",\n  " : "") + members[i];
    return out + "\n}";
  }
  if (value.is_array()) {
    std::string out = "[ ";
    for (std::size_t i = 0; i < value.size(); ++i) out += (i ? " , " : "") + reshuffled(value[i]);
    return out + " ]";
  }
  return value.dump();
}

inline std::string code_of(const HttpResponse& res) {
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("code") || !body["code"].is_string()) return "<none>";
  return body["code"];
}

// The `field`s of a problem's errors[].
inline std::set<std::string> fields_of(const HttpResponse& res) {
  std::set<std::string> fields;
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("errors")) return fields;
  for (const auto& error : body["errors"]) fields.insert(error.value("field", "<no field>"));
  return fields;
}

inline bool is_problem(const HttpResponse& res) {
  return res.header("Content-Type") == "application/problem+json";
}

// A gateway with the demo config (catalog and orders enabled), the per-IP guard out of the way,
// and one premium partner "shop" whose quota never runs out.
struct Store {
  explicit Store(std::vector<std::string> extra = {})
      : gw(with_ip_limit(std::move(extra))), admin{gw.admin_port} {
    shop = partner("Shop A");
  }

  static std::vector<std::string> with_ip_limit(std::vector<std::string> extra) {
    extra.insert(extra.begin(), {"--set", "security.client_ip_limit=1000000000"});
    return extra;
  }

  // A premium partner with a key (`key_body`: e.g. {"scopes": ["orders:read"]}).
  Partner partner(const std::string& name, const json& key_body = json::object()) {
    auto res =
        admin.call("POST", "/partners",
                   {{"name", name}, {"tier", "premium"}, {"rate_limit_override", 1000000000}});
    EXPECT_EQ(res.status, 201) << res.body;
    Partner p;
    p.id = json::parse(res.body)["id"];
    p.key = another_key(p, key_body);
    return p;
  }
  std::string another_key(const Partner& p, const json& key_body = json::object()) {
    auto res = admin.call("POST", "/partners/" + p.id + "/keys", key_body);
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body)["key"];
  }

  // POST /admin/v1/products/import: a JSON array, or two or more items in braces ({stocked(...),
  // ...}). One item must be wrapped: json::array({stocked(...)}) — a single braced json is that
  // json itself, not an array of it.
  void import(const json& items) { admin.import(items); }
  void import(std::initializer_list<json> items) {
    json array = json::array();
    for (const auto& item : items) array.push_back(item);
    admin.import(array);
  }

  // POST /v1/orders with raw bytes; no Idempotency-Key header when `idempotency_key` is nullopt.
  HttpResponse create_raw(const std::string& api_key, std::optional<std::string> idempotency_key,
                          const std::string& body, Headers extra = {}) {
    Headers headers{{"X-API-Key", api_key}, {"Content-Type", "application/json"}};
    if (idempotency_key) headers.emplace_back("Idempotency-Key", *idempotency_key);
    for (auto& h : extra) headers.push_back(std::move(h));
    return http_request(gw.port, "POST", "/v1/orders", headers, body);
  }
  HttpResponse create(const Partner& p, const std::string& idempotency_key, const json& body) {
    return create_raw(p.key, idempotency_key, body.dump());
  }
  // Creates an order that must succeed; returns it.
  json create_ok(const Partner& p, const std::string& idempotency_key, const json& body) {
    auto res = create(p, idempotency_key, body);
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body, nullptr, false);
  }

  HttpResponse get(const Partner& p, const std::string& target, Headers extra = {}) {
    extra.emplace_back("X-API-Key", p.key);
    return http_request(gw.port, "GET", target, extra);
  }
  json get_json(const Partner& p, const std::string& target) {
    auto res = get(p, target);
    EXPECT_EQ(res.status, 200) << target << ": " << res.body;
    return json::parse(res.body, nullptr, false);
  }
  json order(const Partner& p, const std::string& id) { return get_json(p, "/v1/orders/" + id); }
  json order(const std::string& id) { return order(shop, id); }

  HttpResponse patch(const Partner& p, const std::string& id, const json& body,
                     Headers extra = {}) {
    extra.emplace_back("X-API-Key", p.key);
    extra.emplace_back("Content-Type", "application/json");
    return http_request(gw.port, "PATCH", "/v1/orders/" + id, extra, body.dump());
  }

  HttpResponse set_status(const std::string& id, const std::string& status) {
    return admin.call("POST", "/orders/" + id + "/status", {{"status", status}});
  }
  HttpResponse ship(const std::string& id,
                    const json& shipment = {{"carrier", "CJ Logistics"},
                                            {"tracking_number", "6401-2345-6789"}}) {
    return admin.call("POST", "/orders/" + id + "/shipment", shipment);
  }

  // GET /v1/products/{id}/inventory (as the shop).
  json inventory(const std::string& product_id) {
    return get_json(shop, "/v1/products/" + product_id + "/inventory");
  }
  // {available, reserved} summed over warehouses.
  std::pair<std::int64_t, std::int64_t> stock(const std::string& product_id) {
    json view = inventory(product_id);
    return {view.value("available", std::int64_t{-1}), view.value("reserved", std::int64_t{-1})};
  }

  // Every order of a filtered list walk, page by page, in the order the pages gave them.
  std::vector<json> walk(const Partner& p, const std::string& filters, int limit) {
    std::vector<json> orders;
    std::string cursor;
    for (int page = 0; page < 100000; ++page) {
      std::string target = "/v1/orders?limit=" + std::to_string(limit) + filters +
                           (cursor.empty() ? "" : "&cursor=" + cursor);
      json body = get_json(p, target);
      if (!body.is_object() || !body.contains("data")) {
        ADD_FAILURE() << target << " answered no page";
        break;
      }
      EXPECT_LE(body["data"].size(), static_cast<std::size_t>(limit));
      for (const auto& order : body["data"]) orders.push_back(order);
      if (!body["has_more"].get<bool>()) {
        EXPECT_TRUE(body["next_cursor"].is_null());
        break;
      }
      cursor = body["next_cursor"];
    }
    return orders;
  }
  std::vector<std::string> walk_ids(const Partner& p, const std::string& filters, int limit) {
    std::vector<std::string> ids;
    for (const auto& order : walk(p, filters, limit)) ids.push_back(order["id"]);
    return ids;
  }

  // Events about one order (its type order.*), oldest first, as their Standard Webhooks bodies
  // with the row's partner_id added as "partner_id".
  std::vector<json> order_events(const std::string& order_id) {
    std::vector<json> events;
    for (json& event : events_where("type LIKE 'order.%'")) {
      if (event["data"]["object"]["id"] == order_id) events.push_back(std::move(event));
    }
    return events;
  }
  std::vector<std::string> order_event_types(const std::string& order_id) {
    std::vector<std::string> types;
    for (const auto& event : order_events(order_id)) types.push_back(event["type"]);
    return types;
  }
  // inventory.changed events of one product, oldest first.
  std::vector<json> inventory_events(const std::string& product_id) {
    return events_where("type = 'inventory.changed' AND subject = '" + product_id + "'");
  }
  std::vector<json> events_where(const std::string& condition) {
    std::vector<json> events;
    for (const auto& row :
         query_db(gw.dir / "portico.db", "SELECT payload, partner_id FROM outbox_events WHERE " +
                                             condition + " ORDER BY sequence")) {
      json payload = json::parse(row[0]);
      payload["partner_id"] = row[1];
      events.push_back(std::move(payload));
    }
    return events;
  }

  Gateway gw;
  Admin admin;
  Partner shop;
};

// The lines of an order as {product_id, quantity} pairs, to compare with a request.
inline std::vector<std::pair<std::string, std::int64_t>> lines_of(const json& order) {
  std::vector<std::pair<std::string, std::int64_t>> lines;
  if (!order.is_object() || !order.contains("items")) return lines;
  for (const auto& item : order["items"]) {
    lines.emplace_back(item.value("product_id", ""), item.value("quantity", std::int64_t{-1}));
  }
  return lines;
}

inline std::vector<std::string> statuses_of_history(const json& order) {
  std::vector<std::string> statuses;
  for (const auto& change : order["status_history"]) statuses.push_back(change["status"]);
  return statuses;
}

}  // namespace portico::test::orders
