// The body of POST /v1/orders, checked field by field before anything touches the database:
//
//   {"external_id": "PO-1001",                                   optional, 1–64, one line
//    "items": [{"product_id": "prod_…", "quantity": 2}, …],      1–100 lines, quantity 1–999,
//                                                                 each product once
//    "shipping_address": {"name", "line1", "line2"?, "city", "postal_code", "country", "phone"?},
//    "metadata": {"key": "value"}}                               optional (metadata.hpp)
//
// Every problem becomes a FieldError named the way the caller wrote it ("items[0].quantity",
// "shipping_address.city") and all of them are reported at once; unknown members are refused
// ("is not a known field") so a misspelt optional field is not silently dropped. Whether the
// products exist, are active, share a currency and are in stock is decided later, inside the
// transaction (order_plan.hpp). Pure: unit-tested without a database.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metadata.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/fields.hpp"

namespace portico::routes_orders {

inline constexpr std::size_t kMaxOrderLines = 100;
inline constexpr std::int64_t kMaxLineQuantity = 999;
inline constexpr std::size_t kMaxProductIdLength = 64;
inline constexpr std::size_t kMaxExternalIdLength = 64;
inline constexpr std::size_t kMaxAddressNameLength = 200;
inline constexpr std::size_t kMaxAddressLineLength = 200;
inline constexpr std::size_t kMaxCityLength = 100;
inline constexpr std::size_t kMaxPostalCodeLength = 20;
inline constexpr std::size_t kMaxPhoneLength = 32;

struct OrderLineInput {
  std::string product_id;
  std::int64_t quantity = 0;
};

struct OrderInput {
  std::optional<std::string> external_id;
  std::vector<OrderLineInput> items;  // in the request's order
  // {name, line1, line2, city, postal_code, country, phone}: every member present, the optional
  // ones null when not given, so stored orders all have one shape.
  nlohmann::json shipping_address = nlohmann::json::object();
  nlohmann::json metadata = nlohmann::json::object();
};

// ISO 3166-1 alpha-2: the 249 officially assigned codes, plus XK (Kosovo; user-assigned, but
// used by carriers and payment networks alike). Sorted, two letters each.
inline constexpr std::string_view kCountryCodes =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICK"
    "CLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGS"
    "GTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULV"
    "LYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPM"
    "PNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTR"
    "TTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

inline bool is_country_code(std::string_view code) {
  if (code.size() != 2) return false;
  std::size_t low = 0, high = kCountryCodes.size() / 2;
  while (low < high) {
    const std::size_t middle = (low + high) / 2;
    const std::string_view candidate = kCountryCodes.substr(middle * 2, 2);
    if (candidate == code) return true;
    if (candidate < code) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return false;
}

// Digits, spaces and + - ( ), with at least one digit.
inline bool is_phone_number(std::string_view phone) {
  bool digit = false;
  for (char c : phone) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != ' ' && c != '+' && c != '-' && c != '(' && c != ')') {
      return false;
    }
  }
  return digit;
}

namespace detail {

inline nlohmann::json optional_value(const std::optional<std::string>& text) {
  return text ? nlohmann::json(*text) : nlohmann::json(nullptr);
}

inline std::vector<OrderLineInput> read_order_lines(const sdk::FieldReader& reader,
                                                    std::vector<FieldError>& errors) {
  std::vector<OrderLineInput> lines;
  const nlohmann::json* items = reader.member("items");
  if (!items || items->is_null()) {
    reader.fail("items", "is required: an array of {\"product_id\", \"quantity\"}");
    return lines;
  }
  if (!items->is_array()) {
    reader.fail("items", "must be an array of {\"product_id\", \"quantity\"}");
    return lines;
  }
  if (items->empty()) {
    reader.fail("items", "must hold at least 1 item");
    return lines;
  }
  if (items->size() > kMaxOrderLines) {
    reader.fail("items", "must hold at most " + std::to_string(kMaxOrderLines) + " items, has " +
                             std::to_string(items->size()));
    return lines;
  }
  lines.reserve(items->size());
  // product id → its first line, to name the line a repeat goes back to.
  std::unordered_map<std::string_view, std::size_t> first_line;
  bool complete = true;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const std::string at = "items[" + std::to_string(i) + "]";
    const nlohmann::json& item = (*items)[i];
    if (!item.is_object()) {
      errors.push_back({at, "must be an object {\"product_id\", \"quantity\"}"});
      complete = false;
      continue;
    }
    sdk::FieldReader line(item, at + ".", errors);
    line.refuse_unknown({"product_id", "quantity"});
    const nlohmann::json* id = line.member("product_id");
    std::optional<std::string_view> product_id;
    if (!id || id->is_null()) {
      line.fail("product_id", "is required");
    } else if (!id->is_string()) {
      line.fail("product_id", "must be a string");
    } else {
      const auto& text = id->get_ref<const std::string&>();
      if (text.empty() || sdk::utf8_length(text) > kMaxProductIdLength ||
          sdk::has_control_characters(text)) {
        line.fail("product_id", "must be a product id of 1 to " +
                                    std::to_string(kMaxProductIdLength) + " characters");
      } else if (auto [it, inserted] = first_line.emplace(text, i); !inserted) {
        line.fail("product_id", "repeats items[" + std::to_string(it->second) +
                                    "]; order a product on one line with the total quantity");
      } else {
        product_id = text;
      }
    }
    auto quantity = line.integer("quantity", 1, kMaxLineQuantity);
    if (product_id && quantity) {
      lines.push_back({std::string(*product_id), *quantity});
    } else {
      complete = false;
    }
  }
  if (!complete) lines.clear();
  return lines;
}

inline nlohmann::json read_shipping_address(const sdk::FieldReader& reader,
                                            std::vector<FieldError>& errors) {
  const nlohmann::json* address = reader.member("shipping_address");
  if (!address || address->is_null()) {
    reader.fail("shipping_address",
                "is required: {\"name\", \"line1\", \"line2\"?, \"city\", \"postal_code\", "
                "\"country\", \"phone\"?}");
    return nlohmann::json::object();
  }
  if (!address->is_object()) {
    reader.fail("shipping_address",
                "must be an object {\"name\", \"line1\", \"line2\"?, \"city\", \"postal_code\", "
                "\"country\", \"phone\"?}");
    return nlohmann::json::object();
  }
  sdk::FieldReader fields(*address, reader.prefix() + "shipping_address.", errors);
  fields.refuse_unknown({"name", "line1", "line2", "city", "postal_code", "country", "phone"});
  auto name = fields.text("name", kMaxAddressNameLength, true);
  auto line1 = fields.text("line1", kMaxAddressLineLength, true);
  auto line2 = fields.text("line2", kMaxAddressLineLength, false);
  auto city = fields.text("city", kMaxCityLength, true);
  auto postal_code = fields.text("postal_code", kMaxPostalCodeLength, true);
  std::optional<std::string> country;
  if (const nlohmann::json* code = fields.member("country"); !code || code->is_null()) {
    fields.fail("country", "is required: an ISO 3166-1 alpha-2 code such as KR or US");
  } else if (!code->is_string() || !is_country_code(code->get_ref<const std::string&>())) {
    fields.fail("country", "must be an ISO 3166-1 alpha-2 country code in capitals, e.g. KR");
  } else {
    country = code->get<std::string>();
  }
  auto phone = fields.text("phone", kMaxPhoneLength, false);
  if (phone && !phone->empty() && !is_phone_number(*phone)) {
    fields.fail("phone", "may hold only digits, spaces and + - ( )");
  }
  nlohmann::json out = nlohmann::json::object();
  out["name"] = name.value_or("");
  out["line1"] = line1.value_or("");
  out["line2"] = optional_value(line2);
  out["city"] = city.value_or("");
  out["postal_code"] = postal_code.value_or("");
  out["country"] = country.value_or("");
  out["phone"] = optional_value(phone);
  return out;
}

}  // namespace detail

// Reads the whole body; `errors` gets every problem. The result is meaningful only when no error
// was added.
inline OrderInput read_order_input(const nlohmann::json& body, std::vector<FieldError>& errors) {
  OrderInput input;
  if (!body.is_object()) {
    errors.push_back({"body", "must be a JSON object {\"items\", \"shipping_address\", ...}"});
    return input;
  }
  sdk::FieldReader reader(body, "", errors);
  reader.refuse_unknown({"external_id", "items", "shipping_address", "metadata"});
  if (const nlohmann::json* id = reader.member("external_id"); id && !id->is_null()) {
    if (!id->is_string()) {
      reader.fail("external_id", "must be a string");
    } else if (id->get_ref<const std::string&>().empty()) {
      reader.fail("external_id", "must not be empty (leave it out instead)");
    } else {
      input.external_id = reader.text("external_id", kMaxExternalIdLength, false);
    }
  }
  input.items = detail::read_order_lines(reader, errors);
  input.shipping_address = detail::read_shipping_address(reader, errors);
  if (const nlohmann::json* metadata = reader.member("metadata");
      metadata && !metadata->is_null()) {
    check_metadata(*metadata, false, errors);
    if (metadata->is_object()) input.metadata = *metadata;
  }
  return input;
}

}  // namespace portico::routes_orders
