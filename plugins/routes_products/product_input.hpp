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

// Characters, not bytes (the JSON parser has already refused malformed UTF-8).
inline std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

inline bool has_control_characters(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

namespace detail {

class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string prefix, std::vector<FieldError>& errors)
      : object_(object), prefix_(std::move(prefix)), errors_(errors) {}

  void fail(const std::string& field, std::string message) const {
    errors_.push_back({prefix_ + field, std::move(message)});
  }
  const nlohmann::json* member(const std::string& field) const {
    auto it = object_.find(field);
    return it == object_.end() ? nullptr : &*it;
  }

  // A string of 1..max characters (0..max when !required); one line unless multiline.
  std::optional<std::string> text(const std::string& field, std::size_t max, bool required,
                                  bool multiline = false) const {
    const nlohmann::json* value = member(field);
    if (!value || value->is_null()) {
      if (required) fail(field, "is required");
      return std::nullopt;
    }
    if (!value->is_string()) {
      fail(field, "must be a string");
      return std::nullopt;
    }
    const auto& s = value->get_ref<const std::string&>();
    if (required && s.empty()) {
      fail(field, "must not be empty");
      return std::nullopt;
    }
    if (utf8_length(s) > max) {
      fail(field, "must be at most " + std::to_string(max) + " characters");
      return std::nullopt;
    }
    if (!multiline && has_control_characters(s)) {
      fail(field, "must not contain control characters");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::int64_t> integer(const std::string& field, std::int64_t min, std::int64_t max,
                                      bool required = true) const {
    const nlohmann::json* value = member(field);
    if (!value || value->is_null()) {
      if (required) fail(field, "is required");
      return std::nullopt;
    }
    if (!value->is_number_integer()) {
      fail(field, "must be a whole number");
      return std::nullopt;
    }
    if (value->is_number_unsigned() &&
        value->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
      fail(field, "must be at most " + std::to_string(max));
      return std::nullopt;
    }
    const auto n = value->get<std::int64_t>();
    if (n < min || n > max) {
      fail(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  void refuse_unknown(std::initializer_list<const char*> known) const {
    for (const auto& [key, value] : object_.items()) {
      bool listed = false;
      for (const char* k : known) listed = listed || key == k;
      if (!listed) fail(key, "is not a known field");
    }
  }

  const std::string& prefix() const { return prefix_; }
  std::vector<FieldError>& errors() const { return errors_; }

 private:
  const nlohmann::json& object_;
  std::string prefix_;
  std::vector<FieldError>& errors_;
};

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
  detail::FieldReader reader(body, prefix, errors);
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
    detail::FieldReader entry(item, at, errors);
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
  detail::FieldReader reader(body, prefix, errors);
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
    detail::FieldReader money(*price, prefix + "price.", errors);
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
  detail::FieldReader reader(body, "", errors);
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
