// The queries of the events API and of the attempt log, checked:
//   GET /v1/events                       limit, cursor, type (comma-separated event types or
//                                        prefix patterns like "order.*"), created_since (RFC 3339)
//   GET /v1/webhooks/{id}/deliveries     limit, cursor, event_id
// and the 30-day window of the events API: the outbox keeps created_at in whole seconds
// ("2026-11-26T10:00:00Z"), so bounds are converted to that form (rounded down) before they are
// compared as text. An unknown, repeated or malformed parameter is a FieldError naming it.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../webhooks_common/event_types.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/query.hpp"
#include "portico/sdk/time.hpp"
#include "webhook_records.hpp"

namespace portico::routes_webhooks {

// How far back the events API reaches (CONTRACT.md: "the partner's own events of the last 30
// days").
inline constexpr std::chrono::hours kEventWindow{24 * 30};

// A time in the outbox's whole-second form, rounded down: "2026-11-26T10:00:00Z".
inline std::string whole_seconds(sdk::Timestamp t) {
  std::string text =
      sdk::format_timestamp(sdk::Timestamp(std::chrono::floor<std::chrono::seconds>(t)));
  return text.substr(0, 19) + "Z";
}
inline std::string whole_seconds(std::chrono::system_clock::time_point t) {
  return whole_seconds(std::chrono::floor<std::chrono::milliseconds>(t));
}

// The oldest created_at the events API shows at `now`.
inline std::string window_start(std::chrono::system_clock::time_point now) {
  return whole_seconds(now - kEventWindow);
}

// Whether an event created at `created_at` (outbox form) is still inside the window.
inline bool inside_window(std::string_view created_at, std::chrono::system_clock::time_point now) {
  return created_at >= window_start(now);
}

// Every known type `pattern` names: itself when it is an exact type, the types a prefix pattern
// ("order.*") matches, every type for "*". Empty when it names none.
inline std::vector<std::string> types_named_by(std::string_view pattern) {
  std::vector<std::string> out;
  for (std::string_view type : webhooks::kEventTypes) {
    bool hit = pattern == "*" || pattern == type;
    if (!hit && pattern.size() > 2 && pattern.ends_with(".*")) {
      hit = type.starts_with(pattern.substr(0, pattern.size() - 1));
    }
    if (hit) out.emplace_back(type);
  }
  return out;
}

inline constexpr std::size_t kMaxTypeEntries = 32;

// "order.created,order.*": the known types named, sorted and without duplicates. Spaces around
// entries are ignored. Each unknown entry is one FieldError on `name` with a did-you-mean hint.
inline std::vector<std::string> parse_type_list(const std::string& name, std::string_view value,
                                                std::vector<FieldError>& errors) {
  std::vector<std::string_view> entries;
  while (true) {
    const std::size_t comma = value.find(',');
    std::string_view entry = value.substr(0, comma);
    while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t'))
      entry.remove_prefix(1);
    while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
    entries.push_back(entry);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  if (entries.size() > kMaxTypeEntries) {
    errors.push_back({name, "must list at most " + std::to_string(kMaxTypeEntries) + " entries"});
    return {};
  }
  std::vector<std::string> types;
  const std::size_t before = errors.size();
  for (std::string_view entry : entries) {
    if (entry.empty()) {
      errors.push_back({name,
                        "has an empty entry; give event types separated by commas, e.g. "
                        "order.created,order.shipped"});
    } else if (auto named = types_named_by(entry); !named.empty()) {
      types.insert(types.end(), named.begin(), named.end());
    } else {
      std::string message = "names an unknown event type '" + std::string(entry) + "'";
      std::string hint = sdk::closest_name(entry, webhooks::kEventTypes);
      if (!hint.empty()) message += "; did you mean '" + hint + "'?";
      errors.push_back({name, std::move(message)});
    }
  }
  if (errors.size() != before) return {};
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  return types;
}

inline constexpr std::string_view kEventListFilters[] = {"type", "created_since"};
inline constexpr std::string_view kEventListFilterNames = "type and created_since";

struct EventListQuery {
  int limit = sdk::kDefaultPageLimit;
  std::optional<std::string> cursor;
  std::vector<std::string> types;            // exact types, sorted; empty = every type
  std::optional<std::string> created_since;  // whole seconds, rounded down

  // The filters as one canonical text: a cursor is only valid with the filters it came from.
  std::string filter_key() const {
    std::string key = "events";
    key.push_back('\x1f');
    for (const auto& type : types) key += type + ",";
    key.push_back('\x1f');
    key += created_since ? "=" + *created_since : "-";
    return key;
  }

  // The lower bound the feed applies at `now`: created_since, but never before the window.
  std::string effective_since(std::chrono::system_clock::time_point now) const {
    std::string start = window_start(now);
    return created_since && *created_since > start ? *created_since : start;
  }
};

// Parses the raw query string (without '?'). Problems are appended to `errors`; the returned
// query is only meaningful when none were added.
inline EventListQuery parse_event_list_query(std::string_view raw,
                                             std::vector<FieldError>& errors) {
  EventListQuery query;
  sdk::PageParameters page = sdk::read_list_query(
      raw, kEventListFilters, errors, [&](const std::string& name, const std::string& value) {
        if (name == "type") {
          query.types = parse_type_list(name, value, errors);
        } else {  // created_since
          if (auto t = sdk::parse_timestamp(value)) {
            query.created_since = whole_seconds(*t);
          } else {
            errors.push_back({name, "must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z"});
          }
        }
      });
  query.limit = page.limit;
  query.cursor = std::move(page.cursor);
  return query;
}

inline constexpr std::string_view kDeliveryListFilters[] = {"event_id"};
inline constexpr std::string_view kDeliveryListFilterNames = "event_id";

struct DeliveryListQuery {
  int limit = sdk::kDefaultPageLimit;
  std::optional<std::string> cursor;
  std::optional<std::string> event_id;

  // Bound to the endpoint too: a cursor of one endpoint's log is refused on another's.
  std::string filter_key(std::string_view endpoint_id) const {
    std::string key = "attempts";
    key.push_back('\x1f');
    key += endpoint_id;
    key.push_back('\x1f');
    key += event_id ? "=" + *event_id : "-";
    return key;
  }
};

inline DeliveryListQuery parse_delivery_list_query(std::string_view raw,
                                                   std::vector<FieldError>& errors) {
  DeliveryListQuery query;
  sdk::PageParameters page = sdk::read_list_query(
      raw, kDeliveryListFilters, errors, [&](const std::string& name, const std::string& value) {
        if (plausible_id(value, kEventIdPrefix)) {
          query.event_id = value;
        } else {
          errors.push_back({name, "must be an event id (\"evt_…\")"});
        }
      });
  query.limit = page.limit;
  query.cursor = std::move(page.cursor);
  return query;
}

}  // namespace portico::routes_webhooks
