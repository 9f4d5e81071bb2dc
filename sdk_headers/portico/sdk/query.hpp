// Checking the query string of a list route: `limit` (1-100, default 20), `cursor` (opaque,
// non-empty) and the route's own filters, each at most once. An unknown parameter is named with a
// did-you-mean hint (or the list of known ones), so a typo like `?stauts=` is a 400 instead of an
// unfiltered list. Every problem is a FieldError named after the parameter; the caller throws them
// all at once with invalid_query().
//
//   static constexpr std::string_view kFilters[] = {"status", "created_since"};
//   std::vector<FieldError> errors;
//   sdk::PageParameters page = sdk::read_list_query(request.query, kFilters, errors,
//       [&](const std::string& name, const std::string& value) { ... });
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "portico/http_types.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/cursor.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/time.hpp"

namespace portico::sdk {

inline constexpr int kDefaultPageLimit = 20;
inline constexpr int kMaxPageLimit = 100;

// Levenshtein distance (insertions, deletions, substitutions), bytewise.
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
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
}

// The candidate one or two edits away from `given` (the first of the closest), or "" when none is:
// for "did you mean".
inline std::string closest_name(std::string_view given,
                                std::span<const std::string_view> candidates) {
  std::string best;
  std::size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    std::size_t d = edit_distance(given, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

// "1".."max" in plain decimal digits (no sign, no spaces, no leading zeros beyond the width of
// `max`); nullopt otherwise.
inline std::optional<int> parse_page_limit(std::string_view text, int max = kMaxPageLimit) {
  const std::size_t width = std::to_string(max).size();
  if (text.empty() || text.size() > width) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > max) return std::nullopt;
  return value;
}

// The paging half of a list query.
struct PageParameters {
  int limit = kDefaultPageLimit;
  std::optional<std::string> cursor;
};

// Reads the raw query string (without '?'). `limit` and `cursor` go into the result; every
// parameter named in `filters` is handed to on_filter(name, value) (decoded, possibly empty) for
// the caller to check and keep. Unknown and repeated parameters, a bad limit and an empty cursor
// are appended to `errors` in the order they appear in the query; the result is only meaningful
// when none were added.
template <typename OnFilter>
PageParameters read_list_query(std::string_view raw, std::span<const std::string_view> filters,
                               std::vector<FieldError>& errors, OnFilter&& on_filter) {
  std::vector<std::string_view> known{"limit", "cursor"};
  known.insert(known.end(), filters.begin(), filters.end());
  PageParameters page;
  std::vector<std::string> seen;
  for (auto& [name, value] : parse_query(raw)) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string hint = closest_name(name, known);
      std::string message = "is not a known query parameter";
      if (hint.empty()) {
        message += " (known: ";
        for (std::size_t i = 0; i < known.size(); ++i) {
          message += (i == 0 ? "" : ", ") + std::string(known[i]);
        }
        message += ")";
      } else {
        message += "; did you mean '" + hint + "'?";
      }
      errors.push_back({name, std::move(message)});
      continue;
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      errors.push_back({name, "is given more than once"});
      continue;
    }
    seen.push_back(name);
    if (name == "limit") {
      if (auto limit = parse_page_limit(value)) {
        page.limit = *limit;
      } else {
        errors.push_back(
            {"limit", "must be a whole number from 1 to " + std::to_string(kMaxPageLimit)});
      }
    } else if (name == "cursor") {
      if (value.empty()) {
        errors.push_back({"cursor", "must not be empty; leave it out for the first page"});
      } else {
        page.cursor = value;
      }
    } else {
      on_filter(name, value);
    }
  }
  return page;
}

// An RFC 3339 filter value normalized to the stored form (UTC, milliseconds, fixed width, so
// `column >= ?` compares as time); nullopt, with an error naming `name`, when it is not one.
inline std::optional<std::string> timestamp_parameter(const std::string& name,
                                                      std::string_view value,
                                                      std::vector<FieldError>& errors) {
  if (auto t = parse_timestamp(value)) return format_timestamp(*t);
  errors.push_back({name, "must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z"});
  return std::nullopt;
}

// The position a cursor carries, or nullopt with an error on "cursor": not one this API issued,
// or issued for other filters (`filter_names` says which must stay the same, e.g. "category,
// status, q and updated_since").
inline std::optional<std::string> cursor_position(const CursorCodec& codec, std::string_view cursor,
                                                  std::string_view filter_key,
                                                  std::string_view filter_names,
                                                  std::vector<FieldError>& errors) {
  auto decoded = codec.decode(cursor, filter_key);
  if (auto* position = std::get_if<std::string>(&decoded)) return std::move(*position);
  if (std::get<CursorError>(decoded) == CursorError::other_filters) {
    errors.push_back({"cursor", "was issued for other filters; keep " + std::string(filter_names) +
                                    " the same while paging"});
  } else {
    errors.push_back({"cursor", "is not a cursor this API issued; use next_cursor as given"});
  }
  return std::nullopt;
}

// The 400 for a refused query: the detail names every parameter, errors[] lists them.
inline ProblemError invalid_query(std::vector<FieldError> errors) {
  std::string detail;
  for (const auto& e : errors) {
    detail += (detail.empty() ? "" : "; ") + e.field + " " + e.message;
  }
  return invalid_request("The query is not valid: " + detail + ".", std::move(errors));
}

}  // namespace portico::sdk
