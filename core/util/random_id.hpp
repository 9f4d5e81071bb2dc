// Unguessable identifiers and tokens from libsodium's CSPRNG.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portico::util {

// prefix + `chars` characters of [0-9a-z], e.g. random_id("evt_") → "evt_3k9x...".
std::string random_id(std::string_view prefix, std::size_t chars = 24);

// `bytes` random bytes, base64url without padding.
std::string random_token(std::size_t bytes);

}  // namespace portico::util
