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
// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): what JSON settings,
// answers and log lines must carry.
bool is_utf8(std::string_view text);
// Only characters of the base64 alphabet (standard `+/` or URL-safe `-_`) and `=` padding.
// libsodium 1.0.18's decoder takes every byte from 0x80 up as a base64 character: check first.
bool is_base64_text(std::string_view text, bool url_safe);

}  // namespace portico::util
