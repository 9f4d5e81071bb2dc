// The few cryptographic pieces of the catalog, all from libsodium: the cursor MAC
// (HMAC-SHA256), random secrets and ids, and strong ETags (BLAKE2b of the body).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portico::routes_products {

// Throws std::runtime_error when libsodium cannot initialise. Idempotent, thread-safe.
void initialise_crypto();

std::string hmac_sha256(std::string_view key, std::string_view message);
std::string random_bytes(std::size_t count);
std::string to_hex(std::string_view bytes);
// "prod_" + 24 base62 characters (142 random bits).
std::string random_product_id();
// "\"<32 hex digits>\"": BLAKE2b-128 of the body. Strong: equal tags mean equal bytes.
std::string strong_etag(std::string_view body);

}  // namespace portico::routes_products
