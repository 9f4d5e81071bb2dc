// The query of GET /v1/products (and of the operator's GET /admin/v1/products, which shares all of
// it), checked: `limit` (1-100, default 20), `cursor`, and the filters `category`, `status`, `q`
// (name or SKU contains, ASCII case-insensitive) and `updated_since` (RFC 3339). An unknown,
// repeated or malformed parameter is a FieldError naming it (the generic part is
// portico/sdk/query.hpp). Also the page answer both lists build from their rows.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/problem.hpp"
#include "portico/sdk/cursor.hpp"
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
    for (const auto* part : {&category, &status, &q, &updated_since}) sdk::append_filter(key, *part);
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

// A list request checked whole: the query, and the id after which its page starts ("" for the
// first page).
struct ListRequest {
  ListQuery query;
  std::string after;
};

// Parses the raw query and decodes its cursor, which must come from `cursors` and the same
// filters. Throws 400 invalid_request naming every bad parameter at once.
inline ListRequest read_list_request(std::string_view raw, const sdk::CursorCodec& cursors) {
  std::vector<FieldError> errors;
  ListRequest request{parse_list_query(raw, errors), {}};
  if (errors.empty() && request.query.cursor) {
    if (auto position =
            sdk::cursor_position(cursors, *request.query.cursor, request.query.filter_key(),
                                 "category, status, q and updated_since", errors)) {
      request.after = std::move(*position);
    }
  }
  if (!errors.empty()) throw sdk::invalid_query(std::move(errors));
  return request;
}

// The page answer {"data": [render(row)…], "has_more", "next_cursor"} of `rows`, read with one
// more than query.limit (the extra row only tells that there is a next page). The cursor holds
// the last id shown, bound to the query's filters.
template <typename Row, typename Render>
nlohmann::ordered_json list_page_json(std::vector<Row> rows, const ListQuery& query,
                                      const sdk::CursorCodec& cursors, Render render) {
  const bool has_more = rows.size() > static_cast<std::size_t>(query.limit);
  if (has_more) rows.resize(static_cast<std::size_t>(query.limit));
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const Row& row : rows) data.push_back(render(row));
  nlohmann::ordered_json body;
  body["data"] = std::move(data);
  body["has_more"] = has_more;
  body["next_cursor"] =
      has_more ? nlohmann::ordered_json(cursors.encode(rows.back().product.id, query.filter_key()))
               : nlohmann::ordered_json(nullptr);
  return body;
}

}  // namespace portico::routes_products
