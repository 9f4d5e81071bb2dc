// The data key that secrets at rest are sealed under (security.data_key, data_key_file,
// previous_data_keys; Host::seal_secret): how its text is read. The core builds the SecretBox
// from it (core/app/data_keys.hpp); the config only checks the text, and never repeats it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace portico::config {

inline constexpr std::size_t kDataKeyBytes = 32;

// Why a key's text was refused (it is never quoted back: it is a secret).
inline constexpr std::string_view kDataKeyFormat =
    "is not a data key: give 64 hex digits or the base64 of 32 random bytes (e.g. the output of "
    "`openssl rand -hex 32`)";

// 64 hex digits, or base64 (standard or URL-safe alphabet, padding optional) of exactly 32 bytes;
// whitespace around it is ignored. The raw key, or nullopt.
std::optional<std::string> parse_data_key(std::string_view text);

}  // namespace portico::config
