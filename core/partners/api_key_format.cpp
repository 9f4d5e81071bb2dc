// API key generation: rejection sampling over random bytes so every base62 digit is uniform.
#include "core/partners/api_key_format.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>

namespace portico::partners {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool is_base62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

std::string generate_api_key(std::string_view env) {
  std::string_view prefix;
  if (env == "live") {
    prefix = kLiveKeyPrefix;
  } else if (env == "test") {
    prefix = kTestKeyPrefix;
  } else {
    throw std::invalid_argument("API key env must be live or test");
  }
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  std::string key(prefix);
  key.reserve(prefix.size() + kApiKeyRandomChars);
  std::array<unsigned char, 64> pool{};
  std::size_t used = pool.size();
  while (key.size() < prefix.size() + kApiKeyRandomChars) {
    if (used == pool.size()) {
      randombytes_buf(pool.data(), pool.size());
      used = 0;
    }
    unsigned char byte = pool[used++];
    // 248 = 4 · 62: bytes at or above it would bias the first digits.
    if (byte < 248) key.push_back(kBase62[byte % 62]);
  }
  sodium_memzero(pool.data(), pool.size());
  return key;
}

bool is_well_formed_api_key(std::string_view key) {
  if (key.size() != kLiveKeyPrefix.size() + kApiKeyRandomChars) return false;
  if (!key.starts_with(kLiveKeyPrefix) && !key.starts_with(kTestKeyPrefix)) return false;
  for (char c : key.substr(kLiveKeyPrefix.size())) {
    if (!is_base62(c)) return false;
  }
  return true;
}

std::string api_key_prefix(std::string_view key) {
  return std::string(key.substr(0, kApiKeyPrefixChars));
}

}  // namespace portico::partners
