#include "lib/webhook_signing/signing.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>

#include "portico/sdk/sodium.hpp"

namespace portico::webhooks {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0–63 for an alphabet character, -1 otherwise.
int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::optional<std::string> decode_prefixed(std::string_view text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return std::nullopt;
  return base64_decode(text.substr(prefix.size()));
}

std::string content_with(std::string_view msg_id, std::string_view timestamp,
                         std::string_view body) {
  std::string content;
  content.reserve(msg_id.size() + timestamp.size() + body.size() + 2);
  content.append(msg_id).append(".").append(timestamp).append(".").append(body);
  return content;
}

bool verify_content(std::string_view header, const std::vector<std::string>& secrets,
                    const std::vector<std::string>& public_keys, const std::string& content) {
  // Decode each key once, not once per signature.
  std::vector<std::string> hmac_keys;
  for (const std::string& secret : secrets) {
    if (auto key = decode_secret(secret)) hmac_keys.push_back(std::move(*key));
  }
  std::vector<std::string> verify_keys;
  for (const std::string& key_text : public_keys) {
    if (auto key = decode_public_key(key_text)) verify_keys.push_back(std::move(*key));
  }
  std::size_t at = 0;
  while (at < header.size()) {
    std::size_t end = header.find(' ', at);
    if (end == std::string_view::npos) end = header.size();
    const std::string_view entry = header.substr(at, end - at);
    at = end + 1;
    const std::size_t comma = entry.find(',');
    if (comma == std::string_view::npos) continue;
    const std::string_view version = entry.substr(0, comma);
    const std::optional<std::string> signature = base64_decode(entry.substr(comma + 1));
    if (!signature) continue;
    if (version == "v1" && signature->size() == crypto_auth_hmacsha256_BYTES) {
      for (const std::string& key : hmac_keys) {
        const std::string expected = sdk::hmac_sha256(key, content);
        if (sodium_memcmp(expected.data(), signature->data(), expected.size()) == 0) return true;
      }
    } else if (version == "v1a" && signature->size() == crypto_sign_BYTES) {
      for (const std::string& key : verify_keys) {
        if (crypto_sign_verify_detached(bytes_of(*signature), bytes_of(content), content.size(),
                                        bytes_of(key)) == 0) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned value = static_cast<unsigned char>(bytes[i]) << 16 |
                           static_cast<unsigned char>(bytes[i + 1]) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[value >> 18 & 63]);
    out.push_back(kAlphabet[value >> 12 & 63]);
    out.push_back(kAlphabet[value >> 6 & 63]);
    out.push_back(kAlphabet[value & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned value = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) value |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[value >> 18 & 63]);
    out.push_back(kAlphabet[value >> 12 & 63]);
    out.push_back(rest == 2 ? kAlphabet[value >> 6 & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t present = last ? 4 - padding : 4;
    unsigned value = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      int bits = 0;
      if (j < present) {
        bits = sextet(text[i + j]);
        if (bits < 0) return std::nullopt;  // includes '=' anywhere but the end
      }
      value = value << 6 | static_cast<unsigned>(bits);
    }
    out.push_back(static_cast<char>(value >> 16 & 0xFF));
    if (present == 4) {
      out.push_back(static_cast<char>(value >> 8 & 0xFF));
      out.push_back(static_cast<char>(value & 0xFF));
    } else if (present == 3) {
      if ((value & 0xFF) != 0) return std::nullopt;  // non-canonical trailing bits
      out.push_back(static_cast<char>(value >> 8 & 0xFF));
    } else if ((value & 0xFFFF) != 0) {
      return std::nullopt;
    }
  }
  return out;
}

std::string generate_secret() {
  return std::string(kSecretPrefix) + base64_encode(sdk::random_bytes(kSecretBytes));
}

std::optional<std::string> decode_secret(std::string_view secret, std::size_t min_bytes) {
  std::optional<std::string> key = decode_prefixed(secret, kSecretPrefix);
  if (!key || key->size() < min_bytes || key->empty()) return std::nullopt;
  return key;
}

std::string signed_content(std::string_view msg_id, std::int64_t timestamp, std::string_view body) {
  return content_with(msg_id, std::to_string(timestamp), body);
}

std::string sign_v1(std::string_view key, std::string_view msg_id, std::int64_t timestamp,
                    std::string_view body) {
  return "v1," + base64_encode(sdk::hmac_sha256(key, signed_content(msg_id, timestamp, body)));
}

std::string signature_header(const std::vector<std::string>& signatures) {
  std::string header;
  for (const std::string& signature : signatures) {
    if (!header.empty()) header.push_back(' ');
    header += signature;
  }
  return header;
}

Ed25519Keys generate_ed25519_keys() {
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret_key{};
  crypto_sign_keypair(public_key.data(), secret_key.data());
  Ed25519Keys keys{
      std::string(kSigningKeyPrefix) +
          base64_encode({reinterpret_cast<const char*>(secret_key.data()), secret_key.size()}),
      std::string(kPublicKeyPrefix) +
          base64_encode({reinterpret_cast<const char*>(public_key.data()), public_key.size()})};
  sodium_memzero(secret_key.data(), secret_key.size());
  return keys;
}

std::optional<std::string> decode_signing_key(std::string_view secret_key) {
  std::optional<std::string> key = decode_prefixed(secret_key, kSigningKeyPrefix);
  if (!key || key->size() != crypto_sign_SECRETKEYBYTES) return std::nullopt;
  // The second half is the public key; it must be the one the seed (first half) makes.
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> derived{};
  crypto_sign_seed_keypair(public_key.data(), derived.data(), bytes_of(*key));
  const bool matches = sodium_memcmp(derived.data(), key->data(), derived.size()) == 0;
  sodium_memzero(derived.data(), derived.size());
  if (!matches) return std::nullopt;
  return key;
}

std::optional<std::string> decode_public_key(std::string_view public_key) {
  std::optional<std::string> key = decode_prefixed(public_key, kPublicKeyPrefix);
  if (!key || key->size() != crypto_sign_PUBLICKEYBYTES) return std::nullopt;
  return key;
}

std::optional<std::string> public_key_of(std::string_view secret_key) {
  std::optional<std::string> key = decode_signing_key(secret_key);
  if (!key) return std::nullopt;
  const std::string_view public_half =
      std::string_view(*key).substr(crypto_sign_SECRETKEYBYTES - crypto_sign_PUBLICKEYBYTES);
  return std::string(kPublicKeyPrefix) + base64_encode(public_half);
}

std::string sign_v1a(std::string_view secret_key, std::string_view msg_id, std::int64_t timestamp,
                     std::string_view body) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    throw std::invalid_argument("an Ed25519 secret key has 64 bytes");
  }
  const std::string content = signed_content(msg_id, timestamp, body);
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       bytes_of(content), content.size(), bytes_of(secret_key));
  return "v1a," + base64_encode(signature);
}

bool verify(std::string_view header, const std::vector<std::string>& secrets,
            const std::vector<std::string>& public_keys, std::string_view msg_id,
            std::int64_t timestamp, std::string_view body) {
  return verify_content(header, secrets, public_keys, signed_content(msg_id, timestamp, body));
}

bool verify(std::string_view header, const std::vector<std::string>& secrets,
            const std::vector<std::string>& public_keys, std::string_view msg_id,
            std::string_view timestamp, std::string_view body) {
  if (!parse_timestamp_header(timestamp)) return false;
  return verify_content(header, secrets, public_keys, content_with(msg_id, timestamp, body));
}

std::optional<std::int64_t> parse_timestamp_header(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;  // 18 digits never overflow
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool timestamp_is_fresh(std::int64_t timestamp, std::chrono::system_clock::time_point now,
                        std::chrono::seconds tolerance) {
  const std::int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return timestamp >= now_seconds - tolerance.count() &&
         timestamp <= now_seconds + tolerance.count();
}

}  // namespace portico::webhooks
