// Small string helpers shared across the core.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace portico::util {

std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string to_lower(std::string_view s);
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` when it is a plausible typo of it; empty otherwise.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace portico::util
