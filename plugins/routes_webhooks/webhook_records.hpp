// A webhook endpoint and a delivery attempt as stored (webhook_schema.hpp) and as partners see
// them. Pure: the JSON views are unit-tested without a database.
//
//   endpoint: {id, url, events, description, status, disabled_reason, public_key?, created_at,
//              updated_at}            — never the secret (only creation and rotation answer it)
//   attempt:  {id, event_id, event_type, attempt, at, status_code, latency_ms, error,
//              delivery_state}
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/database.hpp"

namespace portico::routes_webhooks {

inline constexpr std::string_view kEndpointIdPrefix = "we_";
inline constexpr std::string_view kEventIdPrefix = "evt_";
inline constexpr std::size_t kMaxIdLength = 64;

struct Endpoint {
  std::string id;
  std::string partner_id;
  std::string url;
  std::vector<std::string> events;
  std::string description;
  std::string status;                          // "enabled" | "disabled"
  std::optional<std::string> disabled_reason;  // set only when the gateway disabled it
  std::string secret;                          // "whsec_…", sealed (secrets_at_rest.hpp)
  std::optional<std::string> previous_secret;  // sealed, like secret
  std::optional<std::string> previous_secret_expires_at;
  std::optional<std::string> signing_key;  // "whsk_…" (v1a on), sealed
  std::optional<std::string> public_key;   // "whpk_…"
  std::optional<std::string> failing_since;
  std::string created_at;
  std::string updated_at;
};

// Every column of webhook_endpoints, in the order endpoint_from_row() reads them.
inline constexpr const char* kEndpointColumns =
    "id, partner_id, url, events, description, status, disabled_reason, secret, previous_secret, "
    "previous_secret_expires_at, signing_key, public_key, failing_since, created_at, updated_at";

inline std::vector<std::string> filters_from_text(const std::string& text) {
  std::vector<std::string> filters;
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return filters;
  for (const auto& entry : parsed) {
    if (entry.is_string()) filters.push_back(entry.get<std::string>());
  }
  return filters;
}

inline std::string filters_to_text(const std::vector<std::string>& filters) {
  return nlohmann::json(filters).dump();
}

inline Endpoint endpoint_from_row(const Row& row) {
  Endpoint e;
  e.id = row.text(0);
  e.partner_id = row.text(1);
  e.url = row.text(2);
  e.events = filters_from_text(row.text(3));
  e.description = row.text(4);
  e.status = row.text(5);
  e.disabled_reason = row.optional_text(6);
  e.secret = row.text(7);
  e.previous_secret = row.optional_text(8);
  e.previous_secret_expires_at = row.optional_text(9);
  e.signing_key = row.optional_text(10);
  e.public_key = row.optional_text(11);
  e.failing_since = row.optional_text(12);
  e.created_at = row.text(13);
  e.updated_at = row.text(14);
  return e;
}

// What partners see of an endpoint: never a secret or the signing key.
inline nlohmann::ordered_json endpoint_json(const Endpoint& e) {
  nlohmann::ordered_json out;
  out["id"] = e.id;
  out["url"] = e.url;
  out["events"] = e.events;
  out["description"] = e.description;
  out["status"] = e.status;
  out["disabled_reason"] =
      e.disabled_reason ? nlohmann::ordered_json(*e.disabled_reason) : nlohmann::ordered_json();
  if (e.public_key) out["public_key"] = *e.public_key;
  out["created_at"] = e.created_at;
  out["updated_at"] = e.updated_at;
  return out;
}

// One row of GET /v1/webhooks/{id}/deliveries: an attempt joined with its delivery.
struct Attempt {
  std::int64_t id = 0;
  std::string event_id;
  std::optional<std::string> event_type;  // null when the event is no longer in the outbox
  std::int64_t attempt = 0;
  std::string at;
  std::optional<std::int64_t> status_code;  // null: no HTTP answer
  std::int64_t latency_ms = 0;
  std::optional<std::string> error;
  std::string delivery_state;  // "pending" | "succeeded" | "failed"
};

inline nlohmann::ordered_json attempt_json(const Attempt& a) {
  nlohmann::ordered_json out;
  out["id"] = a.id;
  out["event_id"] = a.event_id;
  out["event_type"] =
      a.event_type ? nlohmann::ordered_json(*a.event_type) : nlohmann::ordered_json();
  out["attempt"] = a.attempt;
  out["at"] = a.at;
  out["status_code"] =
      a.status_code ? nlohmann::ordered_json(*a.status_code) : nlohmann::ordered_json();
  out["latency_ms"] = a.latency_ms;
  out["error"] = a.error ? nlohmann::ordered_json(*a.error) : nlohmann::ordered_json();
  out["delivery_state"] = a.delivery_state;
  return out;
}

// Ids are prefix + base62 (at most 64 characters): anything else cannot exist, no lookup needed.
inline bool plausible_id(std::string_view id, std::string_view prefix) {
  if (!id.starts_with(prefix) || id.size() == prefix.size() || id.size() > kMaxIdLength) {
    return false;
  }
  return std::all_of(id.begin() + static_cast<std::ptrdiff_t>(prefix.size()), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

// Where a page of endpoints ended (newest first): the last one's created_at (fixed width, no '|')
// and id.
struct EndpointPosition {
  std::string created_at;
  std::string id;
};

inline std::string encode_endpoint_position(const std::string& created_at, const std::string& id) {
  return created_at + "|" + id;
}

inline std::optional<EndpointPosition> decode_endpoint_position(std::string_view text) {
  const auto bar = text.find('|');
  if (bar == std::string_view::npos || bar == 0 || bar + 1 == text.size()) return std::nullopt;
  return EndpointPosition{std::string(text.substr(0, bar)), std::string(text.substr(bar + 1))};
}

// A positive decimal integer (a sequence or row id a cursor carried); nullopt otherwise.
inline std::optional<std::int64_t> decode_number_position(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value <= 0) return std::nullopt;
  return value;
}

}  // namespace portico::routes_webhooks
