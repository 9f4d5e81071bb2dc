// The cryptographic pieces plugins keep needing, from libsodium: HMAC-SHA256 (cursor MACs,
// webhook signatures), random secrets and ids, BLAKE2b digests and strong ETags.
// Header-only; a plugin that includes it links libsodium (`LIBS PkgConfig::SODIUM`).
#pragma once

#include <sodium.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "portico/database.hpp"

namespace portico::sdk {

// Throws std::runtime_error when libsodium cannot initialise. Idempotent, thread-safe; call it in
// init() before anything below.
inline void initialise_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

inline std::string hmac_sha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  std::string tag(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(tag.data()));
  return tag;
}

inline std::string random_bytes(std::size_t count) {
  std::string bytes(count, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  return bytes;
}

inline std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// One random byte for an id, from a per-thread pool of 256 the CSPRNG refills: an order and its
// events draw ~100 bytes, and one getrandom() system call per id showed in the order profile.
// (The pool is not fork-safe; Portico never forks after start-up.)
inline unsigned char id_random_byte() {
  thread_local unsigned char pool[256];
  thread_local std::size_t next = sizeof pool;
  if (next == sizeof pool) {
    randombytes_buf(pool, sizeof pool);
    next = 0;
  }
  const unsigned char byte = pool[next];
  pool[next++] = 0;  // drawn bytes do not linger
  return byte;
}

// prefix + `length` base62 characters (24 of them carry 142 random bits): "prod_…", "ord_…".
// Bytes below 248 = 4 × 62 map onto the alphabet without bias, the rest (3 %) are skipped.
inline std::string random_id(std::string_view prefix, std::size_t length = 24) {
  static constexpr char alphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string id(prefix);
  const std::size_t size = prefix.size() + length;
  id.reserve(size);
  while (id.size() < size) {
    const unsigned char byte = id_random_byte();
    if (byte < 248) id.push_back(alphabet[byte % 62]);
  }
  return id;
}

// prefix + 24 base62 characters like random_id(), the first 8 of them the millisecond it was
// made: ids made later sort after (to the millisecond), so a table or index keyed by them takes
// new rows at its end — a commit of many rows writes a page or two, not one random page per row
// (docs/plugins.md, "Keys that append"). The other 16 characters carry 95 random bits.
inline std::string time_ordered_id(std::string_view prefix,
                                   std::chrono::system_clock::time_point at =
                                       std::chrono::system_clock::now()) {
  static constexpr char alphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  constexpr std::size_t kTimeChars = 8;  // 62^8 ms ≈ 6,900 years after 1970
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
  auto ms = static_cast<std::uint64_t>(since.count() < 0 ? 0 : since.count());
  std::string stamp(prefix);
  stamp.resize(prefix.size() + kTimeChars);
  for (std::size_t i = stamp.size(); i-- > prefix.size();) {
    stamp[i] = alphabet[ms % 62];
    ms /= 62;
  }
  return random_id(stamp, 24 - kTimeChars);
}

// BLAKE2b of `data` with a digest of `bytes` bytes (16–64), raw.
inline std::string blake2b(std::string_view data, std::size_t bytes = 32) {
  std::string digest(bytes, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(digest.data()), digest.size(),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(), nullptr, 0);
  return digest;
}

// "\"<32 hex digits>\"": BLAKE2b-128 of the body. Strong: equal tags mean equal bytes.
inline std::string strong_etag(std::string_view body) {
  return "\"" + to_hex(blake2b(body, 16)) + "\"";
}

// A random secret made once per database and kept in the plugin's own `table(name TEXT PRIMARY
// KEY, value TEXT NOT NULL)`: 32 random bytes as hex (so cursors and MACs survive restarts and
// agree across processes on one database). Two processes starting on a fresh database agree on
// whichever insert won.
inline std::string stored_secret(Database& db, const std::string& table, const std::string& name) {
  db.execute("INSERT INTO " + table + "(name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
             {name, to_hex(random_bytes(32))});
  Rows rows = db.query("SELECT value FROM " + table + " WHERE name = ?", {name});
  if (rows.empty()) throw DatabaseError(table + " holds no " + name);
  return rows.front().text(0);
}

}  // namespace portico::sdk
