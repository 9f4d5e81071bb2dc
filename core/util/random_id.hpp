// Unguessable identifiers and tokens from libsodium's CSPRNG.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>


namespace portico::util {

// prefix + `chars` characters of [0-9a-z], e.g. random_id("evt_") → "evt_3k9x...".
std::string random_id(std::string_view prefix, std::size_t chars = 24);

// prefix + 9 characters of [0-9a-z] for the millisecond it was made + `chars` - 9 random ones:
// ids made later sort after (to the millisecond), so rows keyed by them are appended at the end of
// their index instead of landing on a random page of it (one page written per commit, not one per
// row). 15 random characters (77 bits) keep it unguessable. `chars` > 9.
std::string time_ordered_id(std::string_view prefix, std::size_t chars = 24);

// `bytes` random bytes, base64url without padding.
std::string random_token(std::size_t bytes);

}  // namespace portico::util
