// The scopes an API key can carry (the same set OAuth clients get).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace portico::partners {

// In canonical order; stored and shown in this order.
const std::vector<std::string>& all_scopes();

bool is_known_scope(std::string_view scope);

// Removes duplicates and sorts into canonical order. Unknown scopes are dropped (validate first).
std::vector<std::string> canonical_scopes(const std::vector<std::string>& scopes);

}  // namespace portico::partners
