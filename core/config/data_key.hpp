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
    "is not a data key: give 64 hex digits, the base64 of 32 random bytes, or at least 32 "
    "characters of random text (e.g. the output of `openssl rand -hex 32`)";

// 64 hex digits, or base64 (standard or URL-safe alphabet, padding optional) of exactly 32 bytes:
// that key. Otherwise text of 32 or more characters, like security.key_secret: the key is its
// BLAKE2b-256 (keyed with a fixed context), so any long random secret works. Refused: shorter
// text, and text that is plainly a hex or padded base64 key of the wrong length (a typo should
// not quietly become another key). Whitespace around it is ignored. The raw key, or nullopt.
std::optional<std::string> parse_data_key(std::string_view text);

}  // namespace portico::config
