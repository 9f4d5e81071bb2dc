// The keyed hash API keys are stored under, and where its secret comes from: security.key_secret
// when configured, else one generated at first start and kept in core_secrets.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "portico/database.hpp"

namespace portico::partners {

inline constexpr std::size_t kMinKeySecretChars = 32;

// A configured secret that cannot be used (too short); the message names the config key.
class KeySecretError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class KeyHasher {
 public:
  // Any secret of at least kMinKeySecretChars characters (throws KeySecretError otherwise).
  explicit KeyHasher(std::string_view secret);
  ~KeyHasher();
  KeyHasher(const KeyHasher&) = default;
  KeyHasher& operator=(const KeyHasher&) = default;

  // 64 hex characters: BLAKE2b-256 of the presented key, keyed with the secret.
  std::string hash(std::string_view presented) const;
  // The same into `out`, without allocating; returns a view of it. A key this thread hashed
  // lately with this secret is answered from the thread's memo (see key_hasher.cpp).
  using Hex = std::array<char, 64>;
  std::string_view hash(std::string_view presented, Hex& out) const;

 private:
  std::array<unsigned char, 32> key_{};  // BLAKE2b-256 of the secret, so any length works
  std::uint64_t id_ = 0;  // one per secret given to the constructor; copies share it (and key_)
};

// The configured secret when `configured` is not empty (refused below 32 characters), else the
// generated one stored in core_secrets (created on first call). Needs the partners migrations.
std::string resolve_key_secret(Database& db, const std::string& configured);

}  // namespace portico::partners
