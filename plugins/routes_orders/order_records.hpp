// An order as stored and as partners see it, and its shipment. Pure: the JSON views are tested
// without a database.
//
//   {id, external_id, status, items: [{product_id, sku, name, quantity, unit_price}], total,
//    shipping_address, metadata, status_history: [{status, at}], shipment, created_at, updated_at}
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::routes_orders {

inline constexpr const char* kPending = "pending";
inline constexpr const char* kConfirmed = "confirmed";
inline constexpr const char* kShipped = "shipped";
inline constexpr const char* kDelivered = "delivered";
inline constexpr const char* kCancelled = "cancelled";

// pending → confirmed → shipped → delivered; pending|confirmed → cancelled.
inline bool transition_allowed(std::string_view from, std::string_view to) {
  if (to == kCancelled) return from == kPending || from == kConfirmed;
  return (from == kPending && to == kConfirmed) || (from == kConfirmed && to == kShipped) ||
         (from == kShipped && to == kDelivered);
}

inline bool is_status(std::string_view s) {
  return s == kPending || s == kConfirmed || s == kShipped || s == kDelivered || s == kCancelled;
}

struct OrderItem {
  std::string product_id;
  std::string sku;
  std::string name;
  std::int64_t quantity = 0;
  std::int64_t unit_amount = 0;  // minor units, in the order's currency
};

struct StatusChange {
  std::string status;
  std::string at;  // RFC 3339, fixed width (sdk/time.hpp)
};

struct Shipment {
  std::string order_id;
  std::string carrier;
  std::string tracking_number;
  std::string status = "in_transit";                // "in_transit" | "delivered"
  nlohmann::json events = nlohmann::json::array();  // [{status, description?, location?, at}]
  std::string shipped_at;
  std::optional<std::string> delivered_at;
  std::string updated_at;
};

struct Order {
  std::string id;
  std::string partner_id;
  std::optional<std::string> external_id;
  std::string status = kPending;
  std::string currency;
  std::int64_t total_amount = 0;
  nlohmann::json shipping_address = nlohmann::json::object();
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<OrderItem> items;
  std::vector<StatusChange> history;
  std::optional<Shipment> shipment;
  std::int64_t version = 1;
  std::string created_at;
  std::string updated_at;
};

inline nlohmann::ordered_json money_json(std::int64_t amount, const std::string& currency) {
  nlohmann::ordered_json out;
  out["amount"] = amount;
  out["currency"] = currency;
  return out;
}

// GET /v1/orders/{id}/shipment, and `shipment` inside the order.
inline nlohmann::ordered_json shipment_json(const Shipment& s) {
  nlohmann::ordered_json out;
  out["order_id"] = s.order_id;
  out["carrier"] = s.carrier;
  out["tracking_number"] = s.tracking_number;
  out["status"] = s.status;
  out["events"] = s.events;
  out["shipped_at"] = s.shipped_at;
  out["delivered_at"] =
      s.delivered_at ? nlohmann::ordered_json(*s.delivered_at) : nlohmann::ordered_json(nullptr);
  out["updated_at"] = s.updated_at;
  return out;
}

// What partners see (GET /v1/orders/{id}, list items, event objects). Members in that order.
inline nlohmann::ordered_json order_json(const Order& o) {
  nlohmann::ordered_json out;
  out["id"] = o.id;
  out["external_id"] =
      o.external_id ? nlohmann::ordered_json(*o.external_id) : nlohmann::ordered_json(nullptr);
  out["status"] = o.status;
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& item : o.items) {
    nlohmann::ordered_json line;
    line["product_id"] = item.product_id;
    line["sku"] = item.sku;
    line["name"] = item.name;
    line["quantity"] = item.quantity;
    line["unit_price"] = money_json(item.unit_amount, o.currency);
    items.push_back(std::move(line));
  }
  out["items"] = std::move(items);
  out["total"] = money_json(o.total_amount, o.currency);
  out["shipping_address"] = o.shipping_address;
  out["metadata"] = o.metadata;
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  for (const auto& change : o.history)
    history.push_back({{"status", change.status}, {"at", change.at}});
  out["status_history"] = std::move(history);
  out["shipment"] = o.shipment ? shipment_json(*o.shipment) : nlohmann::ordered_json(nullptr);
  out["created_at"] = o.created_at;
  out["updated_at"] = o.updated_at;
  return out;
}

// Events carry plain nlohmann::json.
inline nlohmann::json plain(const nlohmann::ordered_json& value) { return nlohmann::json(value); }

}  // namespace portico::routes_orders
