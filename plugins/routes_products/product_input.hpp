// What the admin routes accept, checked field by field: a product (PUT /products/{id}, an item
// of POST /products/import), a stock setting ({"warehouses": [{"id", "available"}]}) and an
// adjustment ({warehouse, delta, reason}). Every problem becomes a FieldError naming the field
// the way the caller wrote it ("[3].price.amount"), and all of them are reported at once.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalog_records.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/fields.hpp"

namespace portico::routes_products {

inline constexpr std::size_t kMaxIdLength = 64;
inline constexpr std::size_t kMaxSkuLength = 64;
inline constexpr std::size_t kMaxNameLength = 200;
inline constexpr std::size_t kMaxDescriptionLength = 5000;
inline constexpr std::size_t kMaxCategoryLength = 64;
inline constexpr std::size_t kMaxAttributesBytes = 16 * 1024;
inline constexpr std::int64_t kMaxAmount = 1'000'000'000'000'000;  // 10^15 minor units
inline constexpr std::int64_t kMaxStock = 1'000'000'000;
inline constexpr std::size_t kMaxReasonLength = 200;

struct StockSetting {
  std::string warehouse_id;
  std::int64_t available = 0;
};

struct ProductInput {
  std::optional<std::string> id;  // absent: the path's id (PUT) or the sku's product (import)
  Product product;                // id left empty here
  std::optional<std::vector<StockSetting>> stock;  // import only: {"inventory": {"warehouses"}}
};

struct Adjustment {
  std::string warehouse_id;
  std::int64_t delta = 0;
  std::string reason;
};

// Product and warehouse ids: 1–64 of A–Z a–z 0–9 _ -, so they sit in paths and cursors as is.
inline bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace detail {

inline bool is_currency(std::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

}  // namespace detail

// `{"warehouses": [{"id": "icn-1", "available": 120}, ...]}`; `prefix` is how the caller names
// this object ("" for a request body, "[3].inventory." inside an import).
inline std::vector<StockSetting> read_stock_settings(const nlohmann::json& body,
                                                     const std::string& prefix,
                                                     std::vector<FieldError>& errors) {
  std::vector<StockSetting> settings;
  if (!body.is_object()) {
    errors.push_back({prefix.empty() ? "body" : prefix.substr(0, prefix.size() - 1),
                      "must be an object like {\"warehouses\": [{\"id\", \"available\"}]}"});
    return settings;
  }
  sdk::FieldReader reader(body, prefix, errors);
  reader.refuse_unknown({"warehouses"});
  const nlohmann::json* list = reader.member("warehouses");
  if (!list || !list->is_array() || list->empty()) {
    reader.fail("warehouses", "must be a non-empty array of {\"id\", \"available\"}");
    return settings;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string at = prefix + "warehouses[" + std::to_string(i) + "].";
    const nlohmann::json& item = (*list)[i];
    if (!item.is_object()) {
      errors.push_back({at.substr(0, at.size() - 1), "must be an object {\"id\", \"available\"}"});
      continue;
    }
    sdk::FieldReader entry(item, at, errors);
    entry.refuse_unknown({"id", "available"});
    auto id = entry.text("id", kMaxIdLength, true);
    if (id && !is_valid_id(*id)) {
      entry.fail("id", "may hold only letters, digits, '_' and '-'");
      id.reset();
    }
    if (id && !seen.insert(*id).second) {
      entry.fail("id", "is listed twice");
      id.reset();
    }
    auto available = entry.integer("available", 0, kMaxStock);
    if (id && available) settings.push_back({*id, *available});
  }
  return settings;
}

// One product object. With `allow_stock`, an optional "inventory" member in the shape of
// read_stock_settings() (import items).
inline ProductInput read_product(const nlohmann::json& body, const std::string& prefix,
                                 bool allow_stock, std::vector<FieldError>& errors) {
  ProductInput input;
  if (!body.is_object()) {
    errors.push_back({prefix.empty() ? "body" : prefix.substr(0, prefix.size() - 1),
                      "must be a product object"});
    return input;
  }
  sdk::FieldReader reader(body, prefix, errors);
  if (allow_stock) {
    reader.refuse_unknown({"id", "sku", "name", "description", "category", "price", "status",
                           "attributes", "updated_at", "inventory"});
  } else {
    reader.refuse_unknown({"id", "sku", "name", "description", "category", "price", "status",
                           "attributes", "updated_at"});
  }
  Product& p = input.product;
  if (const auto* id = reader.member("id"); id && !id->is_null()) {
    if (!id->is_string() || !is_valid_id(id->get<std::string>())) {
      reader.fail("id", "must be 1-64 letters, digits, '_' or '-'");
    } else {
      input.id = id->get<std::string>();
    }
  }
  p.sku = reader.text("sku", kMaxSkuLength, true).value_or("");
  p.name = reader.text("name", kMaxNameLength, true).value_or("");
  p.description = reader.text("description", kMaxDescriptionLength, false, true).value_or("");
  p.category = reader.text("category", kMaxCategoryLength, false).value_or("");
  if (const auto* price = reader.member("price"); !price || !price->is_object()) {
    reader.fail("price", "is required: {\"amount\": <integer minor units>, \"currency\": \"KRW\"}");
  } else {
    sdk::FieldReader money(*price, prefix + "price.", errors);
    money.refuse_unknown({"amount", "currency"});
    p.price.amount = money.integer("amount", 0, kMaxAmount).value_or(0);
    auto currency = money.text("currency", 3, true);
    if (currency && !detail::is_currency(*currency)) {
      money.fail("currency", "must be an ISO 4217 code in capitals, e.g. KRW");
    }
    p.price.currency = currency.value_or("");
  }
  auto status = reader.text("status", 16, false);
  if (status && *status != "active" && *status != "inactive") {
    reader.fail("status", "must be \"active\" or \"inactive\"");
  }
  p.status = status.value_or("active");
  if (const auto* attributes = reader.member("attributes"); attributes && !attributes->is_null()) {
    if (!attributes->is_object()) {
      reader.fail("attributes", "must be an object");
    } else if (attributes->dump().size() > kMaxAttributesBytes) {
      reader.fail("attributes", "must be at most 16 KiB of JSON");
    } else if (!attributes->empty()) {
      p.attributes = *attributes;
    }
  }
  if (const auto* stock = reader.member("inventory"); allow_stock && stock && !stock->is_null()) {
    input.stock = read_stock_settings(*stock, prefix + "inventory.", errors);
  }
  return input;
}

// `{"warehouse": "icn-1", "delta": -3, "reason": "damaged"}`: delta is non-zero.
inline Adjustment read_adjustment(const nlohmann::json& body, std::vector<FieldError>& errors) {
  Adjustment adjustment;
  if (!body.is_object()) {
    errors.push_back({"body", "must be an object {\"warehouse\", \"delta\", \"reason\"}"});
    return adjustment;
  }
  sdk::FieldReader reader(body, "", errors);
  reader.refuse_unknown({"warehouse", "delta", "reason"});
  auto warehouse = reader.text("warehouse", kMaxIdLength, true);
  if (warehouse && !is_valid_id(*warehouse)) {
    reader.fail("warehouse", "may hold only letters, digits, '_' and '-'");
  }
  adjustment.warehouse_id = warehouse.value_or("");
  auto delta = reader.integer("delta", -kMaxStock, kMaxStock);
  if (delta && *delta == 0) reader.fail("delta", "must not be 0");
  adjustment.delta = delta.value_or(0);
  adjustment.reason = reader.text("reason", kMaxReasonLength, false).value_or("");
  return adjustment;
}

}  // namespace portico::routes_products
