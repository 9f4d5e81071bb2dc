// POST /v1/orders under an Idempotency-Key (CONTRACT.md "Idempotency"; IETF draft
// httpapi-idempotency-key-header): reading the header, the request fingerprint's canonical text,
// and the replay of a stored answer. Pure: no database, no libsodium (create_route.cpp hashes the
// canonical text with BLAKE2b), so it is unit-tested as is.
//
//   Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"    (structured-field string)
//   Idempotency-Key: 8e03978e-40d5-43e8-bc93-6894a57f9324      (bare: the same key)
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "portico/http_types.hpp"

namespace portico::routes_orders {

inline constexpr const char* kIdempotencyKeyHeader = "Idempotency-Key";
inline constexpr std::size_t kMaxIdempotencyKeyLength = 255;

// The key the header names, or nullopt with `error` set to the message for
// {"field": "Idempotency-Key", "message": error}. A value in double quotes is a structured-field
// string (RFC 8941: `\"` and `\\` escape a quote and a backslash) and denotes the same key as
// its bare content, so `"abc"` and `abc` are one key. Keys are 1–255 printable ASCII characters
// (space included; no control characters, nothing beyond ASCII, which headers do not carry
// reliably). Surrounding spaces and tabs are not part of the key.
inline std::optional<std::string> parse_idempotency_key(std::optional<std::string_view> header,
                                                        std::string& error) {
  const auto printable = [](char c) { return c >= 0x20 && c <= 0x7E; };
  if (!header) {
    error = "is required";
    return std::nullopt;
  }
  std::string_view value = *header;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  std::string key;
  if (!value.empty() && value.front() == '"') {
    if (value.size() < 2 || value.back() != '"') {
      error = "has an opening quote without a closing one";
      return std::nullopt;
    }
    const std::string_view inner = value.substr(1, value.size() - 2);
    key.reserve(inner.size());
    for (std::size_t i = 0; i < inner.size(); ++i) {
      char c = inner[i];
      if (c == '\\') {
        if (i + 1 == inner.size() || (inner[i + 1] != '"' && inner[i + 1] != '\\')) {
          error = "may escape only '\"' and '\\' with a backslash inside quotes";
          return std::nullopt;
        }
        c = inner[++i];
      } else if (c == '"') {
        error = "must escape a '\"' inside quotes as '\\\"'";
        return std::nullopt;
      }
      if (!printable(c)) {
        error = "must hold only printable ASCII characters (no control characters)";
        return std::nullopt;
      }
      key.push_back(c);
    }
  } else {
    for (char c : value) {
      if (!printable(c)) {
        error = "must hold only printable ASCII characters (no control characters)";
        return std::nullopt;
      }
    }
    key.assign(value);
  }
  if (key.empty()) {
    error = "must not be empty";
    return std::nullopt;
  }
  if (key.size() > kMaxIdempotencyKeyLength) {
    error = "must be at most " + std::to_string(kMaxIdempotencyKeyLength) + " characters";
    return std::nullopt;
  }
  return key;
}

// What the fingerprint hashes: the parsed body re-serialized. nlohmann::json keeps object members
// sorted and drops insignificant whitespace, so two bodies that differ only in layout, member
// order or string escapes (`"\u00e9"` vs `"é"`) are the same request; any difference of a value
// (1 vs 1.0 vs "1", another quantity, an added member) is another request.
inline std::string canonical_body(const nlohmann::json& body) {
  return body.dump();
}

// The in-process claim and the stored record are per partner: two partners may use the same key.
inline std::string in_flight_key(std::string_view partner_id, std::string_view key) {
  std::string out;
  out.reserve(partner_id.size() + 1 + key.size());
  out.append(partner_id);
  out.push_back('\x1f');
  out.append(key);
  return out;
}

inline std::string order_location(std::string_view order_id) {
  return "/v1/orders/" + std::string(order_id);
}

// The answer to a request: fresh (`replayed` false) or the stored one played back, which carries
// `Idempotent-Replayed: true` and is otherwise the same status, body and Location.
inline Response idempotent_response(int status, std::string body,
                                    const std::optional<std::string>& order_id, bool replayed) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  if (order_id) response.set_header("Location", order_location(*order_id));
  if (replayed) response.set_header("Idempotent-Replayed", "true");
  return response;
}

}  // namespace portico::routes_orders
