// Rows of the partners tables as the in-memory index keeps them and as the admin API shows them.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "portico/database.hpp"
#include "portico/identity.hpp"

namespace portico::partners {

using TimePoint = std::chrono::system_clock::time_point;

// What a key lookup needs to know about the key's partner.
struct PartnerState {
  std::string id;
  std::string status;  // "active" | "disabled"
  std::string tier;
  std::int64_t rate_limit_override = 0;
  std::vector<std::string> allowed_cidrs;
};

// What a key lookup needs to know about the key itself. Never the key.
struct KeyState {
  std::string id;
  std::string hash;
  std::string prefix;
  std::string partner_id;
  std::vector<std::string> scopes;
  std::optional<TimePoint> expires_at;
  bool revoked = false;
  // Kept by the key directory: the identity the key stands for, and the partner state it was
  // built from (a lookup uses it only while that is still the partner's current state).
  std::shared_ptr<const Identity> identity;
  std::shared_ptr<const PartnerState> identity_partner;
};

// Column lists that the *_from_row / *_json functions read (by name).
inline constexpr const char* kPartnerColumns =
    "id, name, tier, status, allowed_cidrs, rate_limit_override, created_at, updated_at";
inline constexpr const char* kKeyColumns =
    "id, partner_id, env, prefix, hash, scopes, created_at, last_used_at, expires_at, revoked_at, "
    "replaced_by";

PartnerState partner_state_from_row(const Row& row);
KeyState key_state_from_row(const Row& row);

// {id, name, tier, status, allowed_cidrs, rate_limit_override, created_at, updated_at}
nlohmann::json partner_json(const Row& row);
// {id, partner_id, env, prefix, scopes, status, created_at, last_used_at, expires_at, revoked_at,
// replaced_by}; status is "active", "expired" or "revoked" as of `now`.
nlohmann::json key_json(const Row& row, TimePoint now);

// A JSON array of strings stored as text; a malformed value reads as empty.
std::vector<std::string> string_list_from_text(const std::string& text);

}  // namespace portico::partners
