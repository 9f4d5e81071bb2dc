// The query of GET /v1/products, checked: `limit` (1-100, default 20), `cursor`, and the filters
// `category`, `status`, `q` (name or SKU contains, ASCII case-insensitive) and `updated_since`
// (RFC 3339). An unknown, repeated or malformed parameter is a FieldError naming it (the generic
// part is portico/sdk/query.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/problem.hpp"
#include "portico/sdk/query.hpp"

namespace portico::routes_products {

inline constexpr int kDefaultLimit = sdk::kDefaultPageLimit;
inline constexpr int kMaxLimit = sdk::kMaxPageLimit;
inline constexpr std::size_t kMaxFilterLength = 100;

struct ListQuery {
  int limit = kDefaultLimit;
  std::optional<std::string> cursor;
  std::optional<std::string> category;
  std::optional<std::string> status;
  std::optional<std::string> q;
  std::optional<std::string> updated_since;  // normalized by sdk::format_timestamp()

  // The filters as one canonical text: a cursor is only valid with the filters it came from.
  std::string filter_key() const {
    std::string key;
    for (const auto* part : {&category, &status, &q, &updated_since}) {
      key += part->has_value() ? "=" + **part : "-";
      key.push_back('\x1f');
    }
    return key;
  }
};

inline constexpr std::string_view kListFilters[] = {"category", "status", "q", "updated_since"};

// Parses the raw query string (without '?'). Problems are appended to `errors`; the returned
// query is only meaningful when none were added.
inline ListQuery parse_list_query(std::string_view raw, std::vector<FieldError>& errors) {
  ListQuery query;
  sdk::PageParameters page = sdk::read_list_query(
      raw, kListFilters, errors, [&](const std::string& name, const std::string& value) {
        if (name == "status") {
          if (value != "active" && value != "inactive") {
            errors.push_back({"status", "must be \"active\" or \"inactive\""});
          } else {
            query.status = value;
          }
        } else if (name == "updated_since") {
          query.updated_since = sdk::timestamp_parameter(name, value, errors);
        } else {  // category, q
          if (value.empty() || value.size() > kMaxFilterLength) {
            errors.push_back({name, "must be 1 to 100 characters"});
          } else {
            (name == "q" ? query.q : query.category) = value;
          }
        }
      });
  query.limit = page.limit;
  query.cursor = std::move(page.cursor);
  return query;
}

}  // namespace portico::routes_products
