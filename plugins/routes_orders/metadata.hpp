// An order's `metadata`: the partner's own key-value notes, checked the way Stripe checks its
// metadata. An object of at most 50 keys; keys 1–40 characters without control characters;
// values strings of at most 500 characters. In a PATCH a null value deletes that key, and the
// given keys are merged into the stored ones.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "portico/problem.hpp"
#include "portico/sdk/fields.hpp"

namespace portico::routes_orders {

inline constexpr std::size_t kMaxMetadataKeys = 50;
inline constexpr std::size_t kMaxMetadataKeyLength = 40;
inline constexpr std::size_t kMaxMetadataValueLength = 500;

// Checks `value` (the request's `metadata` member) and appends problems named "metadata.<key>" or
// "metadata". `allow_null_values`: true for a PATCH (null deletes a key), false at creation.
inline void check_metadata(const nlohmann::json& value, bool allow_null_values,
                           std::vector<FieldError>& errors) {
  if (!value.is_object()) {
    errors.push_back({"metadata", "must be an object of string values"});
    return;
  }
  if (value.size() > kMaxMetadataKeys) {
    errors.push_back({"metadata", "must have at most " + std::to_string(kMaxMetadataKeys) +
                                      " keys, has " + std::to_string(value.size())});
  }
  for (const auto& [key, entry] : value.items()) {
    const std::string field = "metadata." + key;
    if (key.empty() || sdk::utf8_length(key) > kMaxMetadataKeyLength ||
        sdk::has_control_characters(key)) {
      errors.push_back({field, "keys must be 1 to " + std::to_string(kMaxMetadataKeyLength) +
                                   " characters without control characters"});
      continue;
    }
    if (entry.is_null() && allow_null_values) continue;
    if (!entry.is_string()) {
      errors.push_back({field, allow_null_values ? "must be a string (or null to remove the key)"
                                                 : "must be a string"});
      continue;
    }
    if (sdk::utf8_length(entry.get_ref<const std::string&>()) > kMaxMetadataValueLength) {
      errors.push_back(
          {field, "must be at most " + std::to_string(kMaxMetadataValueLength) + " characters"});
    }
  }
}

// `stored` with `patch` merged in: given keys set, null values remove their key. The caller
// checks the result still has at most kMaxMetadataKeys keys.
inline nlohmann::json merge_metadata(nlohmann::json stored, const nlohmann::json& patch) {
  for (const auto& [key, entry] : patch.items()) {
    if (entry.is_null()) {
      stored.erase(key);
    } else {
      stored[key] = entry;
    }
  }
  return stored;
}

}  // namespace portico::routes_orders
