// The fixed scope set of CONTRACT.md.
#include "core/partners/scopes.hpp"

#include <algorithm>

namespace portico::partners {

const std::vector<std::string>& all_scopes() {
  static const std::vector<std::string> scopes = {"products:read",   "orders:read", "orders:write",
                                                  "webhooks:manage", "events:read", "usage:read"};
  return scopes;
}

bool is_known_scope(std::string_view scope) {
  const auto& all = all_scopes();
  return std::find(all.begin(), all.end(), scope) != all.end();
}

std::vector<std::string> canonical_scopes(const std::vector<std::string>& scopes) {
  std::vector<std::string> out;
  for (const auto& scope : all_scopes()) {
    if (std::find(scopes.begin(), scopes.end(), scope) != scopes.end()) out.push_back(scope);
  }
  return out;
}

}  // namespace portico::partners
