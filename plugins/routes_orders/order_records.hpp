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

#include "portico/event.hpp"
#include "portico/sdk/json.hpp"

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

// What partners see (GET /v1/orders/{id}, list items, event objects), as JSON text, members in
// the order of the header's outline: written directly — the bytes nlohmann would dump for the
// value, without building it (orders are created at the writer's pace, and building the value
// to dump it cost more than the rest of the rendering). `shipping_address` and `metadata` are
// o.shipping_address.dump() and o.metadata.dump(), when the caller has them already. Throws
// nlohmann::json::type_error where dump() would (invalid UTF-8).
inline std::string order_text(const Order& o, std::string_view shipping_address,
                              std::string_view metadata) {
  std::string out;
  out.reserve(320 + 160 * o.items.size() + 60 * o.history.size() + shipping_address.size() +
              metadata.size());
  const auto money = [&](std::int64_t amount) {
    out += "{\"amount\":";
    out += std::to_string(amount);
    out += ",\"currency\":";
    sdk::append_json_string(out, o.currency);
    out += '}';
  };
  out += "{\"id\":";
  sdk::append_json_string(out, o.id);
  out += ",\"external_id\":";
  if (o.external_id) {
    sdk::append_json_string(out, *o.external_id);
  } else {
    out += "null";
  }
  out += ",\"status\":";
  sdk::append_json_string(out, o.status);
  out += ",\"items\":[";
  for (std::size_t i = 0; i < o.items.size(); ++i) {
    const OrderItem& item = o.items[i];
    out += i == 0 ? "{\"product_id\":" : ",{\"product_id\":";
    sdk::append_json_string(out, item.product_id);
    out += ",\"sku\":";
    sdk::append_json_string(out, item.sku);
    out += ",\"name\":";
    sdk::append_json_string(out, item.name);
    out += ",\"quantity\":";
    out += std::to_string(item.quantity);
    out += ",\"unit_price\":";
    money(item.unit_amount);
    out += '}';
  }
  out += "],\"total\":";
  money(o.total_amount);
  out += ",\"shipping_address\":";
  out += shipping_address;
  out += ",\"metadata\":";
  out += metadata;
  out += ",\"status_history\":[";
  for (std::size_t i = 0; i < o.history.size(); ++i) {
    out += i == 0 ? "{\"status\":" : ",{\"status\":";
    sdk::append_json_string(out, o.history[i].status);
    out += ",\"at\":";
    sdk::append_json_string(out, o.history[i].at);
    out += '}';
  }
  out += "],\"shipment\":";
  out += o.shipment ? shipment_json(*o.shipment).dump() : std::string("null");
  out += ",\"created_at\":";
  sdk::append_json_string(out, o.created_at);
  out += ",\"updated_at\":";
  sdk::append_json_string(out, o.updated_at);
  out += '}';
  return out;
}
inline std::string order_text(const Order& o) {
  return order_text(o, o.shipping_address.dump(), o.metadata.dump());
}

// An order event: data.object is `shown`, the order_text() of `o` the caller answers with too,
// and data.previous_attributes `previous` when it is not null.
inline PreparedEvent order_event(std::string type, const Order& o, std::string_view shown,
                                 const nlohmann::json& previous = nullptr) {
  return PreparedEvent(std::move(type), o.partner_id, o.id, shown,
                       previous.is_null() ? std::string() : previous.dump());
}

}  // namespace portico::routes_orders
