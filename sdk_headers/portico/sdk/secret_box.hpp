// Secrets at rest: authenticated encryption (libsodium crypto_secretbox, XSalsa20-Poly1305) under
// a 32-byte data key, as text a database column can hold:
//   sealed:v1:<key id>:<base64 of nonce + ciphertext>
// The key id (8 hex characters of a BLAKE2b of the key) names the key that sealed a value, so a
// rotated key keeps opening old values while new ones are sealed under the current key. Used by the
// core behind Host::seal_secret/open_secret, and by the SDK's fake host in plugin tests.
#pragma once

#include <sodium.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace portico::sdk {

class SecretBox {
 public:
  static constexpr std::string_view kPrefix = "sealed:v1:";

  // `current` seals and opens; `previous` only open. Each key is exactly 32 bytes (raw).
  explicit SecretBox(std::string current, std::vector<std::string> previous = {}) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    keys_.push_back(make_key(std::move(current)));
    for (auto& key : previous) keys_.push_back(make_key(std::move(key)));
  }

  const std::string& current_key_id() const { return keys_.front().id; }

  std::string seal(std::string_view plaintext) const {
    const Key& key = keys_.front();
    std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(),
                    '\0');
    auto* out = reinterpret_cast<unsigned char*>(box.data());
    randombytes_buf(out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES,
                          reinterpret_cast<const unsigned char*>(plaintext.data()),
                          plaintext.size(), out, bytes(key.material));
    return std::string(kPrefix) + key.id + ":" + to_base64(box);
  }

  // Throws std::runtime_error naming why a value does not open (not sealed, unknown key,
  // tampered or truncated); never says anything about the plaintext.
  std::string open(std::string_view sealed) const {
    std::string_view rest = sealed;
    if (!rest.starts_with(kPrefix)) throw std::runtime_error("the value is not sealed");
    rest.remove_prefix(kPrefix.size());
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("the sealed value is malformed");
    const std::string_view id = rest.substr(0, colon);
    const Key* key = find(id);
    if (!key) {
      throw std::runtime_error("the value was sealed under data key " + std::string(id) +
                               ", which is neither security.data_key nor one of "
                               "security.previous_data_keys");
    }
    const std::string box = from_base64(rest.substr(colon + 1));
    if (box.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
      throw std::runtime_error("the sealed value is truncated");
    }
    const auto* in = reinterpret_cast<const unsigned char*>(box.data());
    std::string plain(box.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
    if (crypto_secretbox_open_easy(
            reinterpret_cast<unsigned char*>(plain.data()), in + crypto_secretbox_NONCEBYTES,
            box.size() - crypto_secretbox_NONCEBYTES, in, bytes(key->material)) != 0) {
      throw std::runtime_error("the sealed value does not authenticate under data key " + key->id);
    }
    return plain;
  }

  bool sealed_with_current_key(std::string_view stored) const {
    return stored.starts_with(std::string(kPrefix) + keys_.front().id + ":");
  }

  // The key id a data key gets: the first 4 bytes of its BLAKE2b-256, in hex.
  static std::string key_id(std::string_view key) {
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(key.data()),
                       key.size(), nullptr, 0);
    static constexpr char digits[] = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 4; ++i) {
      id.push_back(digits[digest[i] >> 4]);
      id.push_back(digits[digest[i] & 15]);
    }
    return id;
  }

 private:
  struct Key {
    std::string id;
    std::string material;
  };

  static Key make_key(std::string material) {
    if (material.size() != crypto_secretbox_KEYBYTES) {
      throw std::invalid_argument("a data key must be " +
                                  std::to_string(crypto_secretbox_KEYBYTES) + " bytes, not " +
                                  std::to_string(material.size()));
    }
    std::string id = key_id(material);
    return Key{std::move(id), std::move(material)};
  }
  const Key* find(std::string_view id) const {
    for (const Key& key : keys_) {
      if (key.id == id) return &key;
    }
    return nullptr;
  }
  static const unsigned char* bytes(const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.data());
  }
  static std::string to_base64(std::string_view raw) {
    std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                      raw.size(), sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
  }
  static std::string from_base64(std::string_view text) {
    // libsodium 1.0.18 takes bytes from 0x80 up as base64 characters: check the alphabet first.
    for (char c : text) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '/' || c == '=';
      if (!ok) throw std::runtime_error("the sealed value is not base64");
    }
    std::string raw(text.size(), '\0');
    std::size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), text.data(),
                          text.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
      throw std::runtime_error("the sealed value is not base64");
    }
    raw.resize(length);
    return raw;
  }

  std::vector<Key> keys_;  // the current key first
};

}  // namespace portico::sdk
