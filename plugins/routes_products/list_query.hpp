// The query of GET /v1/products, checked: `limit` (1-100, default 20), `cursor`, and the filters
// `category`, `status`, `q` (name or SKU contains, ASCII case-insensitive) and `updated_since`
// (RFC 3339). An unknown, repeated or malformed parameter is a FieldError naming it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/http_types.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/time.hpp"

namespace portico::routes_products {

inline constexpr int kDefaultLimit = 20;
inline constexpr int kMaxLimit = 100;
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

namespace detail {

inline const char* const kListParameters[] = {"limit",  "cursor", "category",
                                              "status", "q",      "updated_since"};

// The known parameter one or two edits away, for "did you mean".
inline std::string closest_parameter(std::string_view given) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  std::string best;
  std::size_t best_distance = 3;
  for (const char* known : kListParameters) {
    std::size_t d = distance(given, known);
    if (d < best_distance) {
      best_distance = d;
      best = known;
    }
  }
  return best;
}

inline std::optional<int> parse_limit(std::string_view text) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > kMaxLimit) return std::nullopt;
  return value;
}

}  // namespace detail

// Parses the raw query string (without '?'). Problems are appended to `errors`; the returned
// query is only meaningful when none were added.
inline ListQuery parse_list_query(std::string_view raw, std::vector<FieldError>& errors) {
  ListQuery query;
  std::vector<std::string> seen;
  for (auto& [name, value] : parse_query(raw)) {
    bool known = false;
    for (const char* k : detail::kListParameters) known = known || name == k;
    if (!known) {
      std::string hint = detail::closest_parameter(name);
      errors.push_back({name, "is not a known query parameter" +
                                  (hint.empty() ? std::string(" (known: limit, cursor, category, "
                                                              "status, q, updated_since)")
                                                : "; did you mean '" + hint + "'?")});
      continue;
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      errors.push_back({name, "is given more than once"});
      continue;
    }
    seen.push_back(name);
    if (name == "limit") {
      if (auto limit = detail::parse_limit(value)) {
        query.limit = *limit;
      } else {
        errors.push_back({"limit", "must be a whole number from 1 to 100"});
      }
    } else if (name == "cursor") {
      if (value.empty()) {
        errors.push_back({"cursor", "must not be empty; leave it out for the first page"});
      } else {
        query.cursor = value;
      }
    } else if (name == "status") {
      if (value != "active" && value != "inactive") {
        errors.push_back({"status", "must be \"active\" or \"inactive\""});
      } else {
        query.status = value;
      }
    } else if (name == "updated_since") {
      if (auto t = sdk::parse_timestamp(value)) {
        query.updated_since = sdk::format_timestamp(*t);
      } else {
        errors.push_back({"updated_since", "must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z"});
      }
    } else {  // category, q
      if (value.empty() || value.size() > kMaxFilterLength) {
        errors.push_back({name, "must be 1 to 100 characters"});
      } else {
        (name == "q" ? query.q : query.category) = value;
      }
    }
  }
  return query;
}

}  // namespace portico::routes_products
