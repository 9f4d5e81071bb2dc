// Who is calling: produced by an auth plugin, read by the later pipeline stages and handlers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace portico {

struct Identity {
  std::string partner_id;
  std::string credential_id;             // API key id or OAuth client id; never the secret itself
  std::string scheme;                    // "api_key", "oauth2", ...
  std::string tier;                      // rate-limit tier name
  std::int64_t rate_limit_override = 0;  // requests per tier window; 0 = the tier's limit
  std::vector<std::string> scopes;
  std::vector<std::string> allowed_cidrs;  // empty = any address

  bool has_scope(const std::string& scope) const {
    return scope.empty() || std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
  }
};

}  // namespace portico
