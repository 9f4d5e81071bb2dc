// What an API key looks like: "pk_live_" or "pk_test_" followed by 32 base62 characters from
// libsodium's CSPRNG (32 · log2 62 ≈ 190 random bits).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portico::partners {

inline constexpr std::size_t kApiKeyRandomChars = 32;
inline constexpr std::size_t kApiKeyPrefixChars = 12;  // "pk_live_" + 4 random characters
inline constexpr std::string_view kLiveKeyPrefix = "pk_live_";
inline constexpr std::string_view kTestKeyPrefix = "pk_test_";

// env is "live" or "test" (anything else throws std::invalid_argument).
std::string generate_api_key(std::string_view env);

// Right prefix, right length, base62 only. Checked before any lookup.
bool is_well_formed_api_key(std::string_view key);

// The part of a key that may be shown, logged and listed.
std::string api_key_prefix(std::string_view key);

}  // namespace portico::partners
