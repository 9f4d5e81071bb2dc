// What auth plugins ask the core about credentials it stores (partners and their API keys).
// Lookups are served from memory: no disk I/O, no global lock on the request path.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

class CredentialDirectory {
 public:
  virtual ~CredentialDirectory() = default;
  // The record of the key whose keyed hash matches `presented`, or nullopt. Callers still check
  // status, revocation and expiry (and answer all of them with the same 401).
  virtual std::optional<ApiKeyRecord> find_api_key(std::string_view presented) const = 0;
  // Notes that the key was used now; persisted in batches (last_used_at), never per request.
  virtual void record_use(std::string_view key_id) = 0;
};

}  // namespace portico
