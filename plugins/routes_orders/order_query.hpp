// The query of GET /v1/orders, checked: `limit` (1-100, default 20), `cursor`, and the filters
// `status` (one of the five), `created_since` (RFC 3339) and `external_id`. An unknown, repeated
// or malformed parameter is a FieldError naming it. Also the keyset position a cursor carries:
// the last listed order's "created_at|id" (the list is newest first).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "order_records.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/cursor.hpp"
#include "portico/sdk/fields.hpp"
#include "portico/sdk/query.hpp"

namespace portico::routes_orders {

// Longer than any external_id an order can carry, so a longer filter is a typo, not a miss.
inline constexpr std::size_t kMaxExternalIdFilterLength = 255;

inline constexpr std::string_view kOrderListFilters[] = {"status", "created_since", "external_id"};

// For the "keep ... the same while paging" hint.
inline constexpr std::string_view kOrderListFilterNames = "status, created_since and external_id";

struct OrderListQuery {
  int limit = sdk::kDefaultPageLimit;
  std::optional<std::string> cursor;
  std::optional<std::string> status;
  std::optional<std::string> created_since;  // normalized by sdk::format_timestamp()
  std::optional<std::string> external_id;

  // The filters as one canonical text: a cursor is only valid with the filters it came from.
  std::string filter_key() const {
    std::string key = "orders";
    key.push_back('\x1f');
    for (const auto* part : {&status, &created_since, &external_id}) sdk::append_filter(key, *part);
    return key;
  }
};

// Parses the raw query string (without '?'). Problems are appended to `errors`; the returned
// query is only meaningful when none were added.
inline OrderListQuery parse_order_list_query(std::string_view raw,
                                             std::vector<FieldError>& errors) {
  OrderListQuery query;
  sdk::PageParameters page = sdk::read_list_query(
      raw, kOrderListFilters, errors, [&](const std::string& name, const std::string& value) {
        if (name == "status") {
          if (is_status(value)) {
            query.status = value;
          } else {
            errors.push_back({"status",
                              "must be one of \"pending\", \"confirmed\", \"shipped\", "
                              "\"delivered\", \"cancelled\""});
          }
        } else if (name == "created_since") {
          query.created_since = sdk::timestamp_parameter(name, value, errors);
        } else {  // external_id
          if (value.empty() || sdk::utf8_length(value) > kMaxExternalIdFilterLength) {
            errors.push_back(
                {"external_id",
                 "must be 1 to " + std::to_string(kMaxExternalIdFilterLength) + " characters"});
          } else {
            query.external_id = value;
          }
        }
      });
  query.limit = page.limit;
  query.cursor = std::move(page.cursor);
  return query;
}

// Where a page ended: the last order's created_at (fixed width, no '|') and id.
struct OrderPosition {
  std::string created_at;
  std::string id;
};

inline std::string encode_order_position(const std::string& created_at, const std::string& id) {
  return created_at + "|" + id;
}

// The position a (MAC-checked) cursor carried; nullopt when it is not "created_at|id".
inline std::optional<OrderPosition> decode_order_position(std::string_view text) {
  const auto bar = text.find('|');
  if (bar == std::string_view::npos || bar == 0 || bar + 1 == text.size()) return std::nullopt;
  return OrderPosition{std::string(text.substr(0, bar)), std::string(text.substr(bar + 1))};
}

}  // namespace portico::routes_orders
