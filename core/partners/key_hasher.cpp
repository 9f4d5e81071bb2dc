// Keyed BLAKE2b (crypto_generichash) over API keys, and the server secret behind it.
#include "core/partners/key_hasher.hpp"

#include <sodium.h>

#include <vector>

namespace portico::partners {
namespace {

constexpr const char* kSecretName = "api_key_hash_secret";

void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.pop_back();
  return hex;
}

void check_secret_length(std::string_view secret) {
  if (secret.size() < kMinKeySecretChars) {
    throw KeySecretError("security.key_secret must be at least " +
                         std::to_string(kMinKeySecretChars) + " characters (got " +
                         std::to_string(secret.size()) +
                         "); generate one with `openssl rand -hex 32`");
  }
}

}  // namespace

KeyHasher::KeyHasher(std::string_view secret) {
  check_secret_length(secret);
  ensure_sodium();
  crypto_generichash(key_.data(), key_.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), nullptr,
                     0);
}

KeyHasher::~KeyHasher() {
  sodium_memzero(key_.data(), key_.size());
}

std::string KeyHasher::hash(std::string_view presented) const {
  Hex out;
  return std::string(hash(presented, out));
}

std::string_view KeyHasher::hash(std::string_view presented, Hex& out) const {
  static_assert(crypto_generichash_BYTES * 2 == std::tuple_size_v<Hex>);
  std::array<unsigned char, crypto_generichash_BYTES> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(presented.data()), presented.size(),
                     key_.data(), key_.size());
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return {out.data(), out.size()};
}

std::string resolve_key_secret(Database& db, const std::string& configured) {
  if (!configured.empty()) {
    check_secret_length(configured);
    return configured;
  }
  std::string secret;
  db.transaction([&](Session& tx) {
    auto rows =
        tx.query("SELECT value FROM core_secrets WHERE name = ?", {std::string(kSecretName)});
    if (!rows.empty()) {
      secret = rows.front().text(0);
      return;
    }
    ensure_sodium();
    std::array<unsigned char, 32> raw{};
    randombytes_buf(raw.data(), raw.size());
    secret = to_hex(raw.data(), raw.size());
    sodium_memzero(raw.data(), raw.size());
    tx.execute("INSERT INTO core_secrets(name, value) VALUES (?, ?)",
               {std::string(kSecretName), secret});
  });
  return secret;
}

}  // namespace portico::partners
