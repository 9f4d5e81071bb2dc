// What auth plugins ask the core about credentials it stores (partners and their API keys).
// Lookups are served from memory: no disk I/O, no global lock on the request path.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/identity.hpp"

namespace portico {

struct ApiKeyRecord {
  std::string key_id;                      // "key_..."
  std::string prefix;                      // the shown part, e.g. "pk_live_3kx9"
  std::string partner_id;                  // "ptr_..."
  std::string partner_status;              // "active" | "disabled"
  std::string tier;                        // rate-limit tier of the partner
  std::int64_t rate_limit_override = 0;    // requests per tier window for this partner; 0 = tier's
  std::vector<std::string> scopes;         // the key's scopes
  std::vector<std::string> allowed_cidrs;  // the partner's allow-list; empty = any
  std::optional<std::chrono::system_clock::time_point> expires_at;  // includes rotation overlap
  bool revoked = false;
};

// Since API 2.1: what find_api_key_identity() answers — the identity a valid key stands for,
// shared rather than copied, and what the caller must still check.
struct ApiKeyIdentity {
  // Null when no key matches. Otherwise scheme "api_key", the partner and key ids, the partner's
  // tier, rate-limit override and allow-list, the key's scopes.
  std::shared_ptr<const Identity> identity;
  bool revoked = false;
  bool partner_active = false;  // the partner's status is "active"
  std::optional<std::chrono::system_clock::time_point> expires_at;  // includes rotation overlap
};

class CredentialDirectory {
 public:
  virtual ~CredentialDirectory() = default;
  // The record of the key whose keyed hash matches `presented`, or nullopt. Callers still check
  // status, revocation and expiry (and answer all of them with the same 401).
  virtual std::optional<ApiKeyRecord> find_api_key(std::string_view presented) const = 0;
  // Notes that the key was used now; persisted in batches (last_used_at), never per request.
  virtual void record_use(std::string_view key_id) = 0;
  // Since API 2.1: the same lookup as find_api_key(), answered with the identity the directory
  // keeps for the key — built once per change of the key or its partner, so a request copies
  // nothing. The default builds one from find_api_key() (directories written for API 2.0).
  virtual ApiKeyIdentity find_api_key_identity(std::string_view presented) const {
    ApiKeyIdentity out;
    auto record = find_api_key(presented);
    if (!record) return out;
    auto identity = std::make_shared<Identity>();
    identity->partner_id = record->partner_id;
    identity->credential_id = record->key_id;
    identity->scheme = "api_key";
    identity->tier = record->tier;
    identity->rate_limit_override = record->rate_limit_override;
    identity->scopes = std::move(record->scopes);
    identity->allowed_cidrs = std::move(record->allowed_cidrs);
    out.identity = std::move(identity);
    out.revoked = record->revoked;
    out.partner_active = record->partner_status == "active";
    out.expires_at = record->expires_at;
    return out;
  }
};

}  // namespace portico
