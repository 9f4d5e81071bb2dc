// lib/webhook_signing: the one Standard Webhooks 1.0 signer of the tree (CONTRACT.md "Webhooks").
// Symmetric `v1` (HMAC-SHA256 keyed with the base64-decoded `whsec_` secret) and asymmetric `v1a`
// (Ed25519, `whsk_` secret key, published `whpk_` public key), both over
// "{webhook-id}.{webhook-timestamp}.{body}", plus the receiver's `verify`.
//
// A neutral library (docs/architecture.md "Rooms"): the core (the ops webhook,
// core/observability) and the webhook plugins (webhooks_common, routes_webhooks, webhook_delivery)
// all link `portico_webhook_signing`; it links neither, only the SDK's header-only libsodium
// helpers. Built like plugin code (hidden symbols, PIC, no GNU-unique symbols) so a plugin module
// that links it exports nothing more and stays unloadable. The namespace stays
// `portico::webhooks`: these are the Standard *Webhooks* rules, whoever sends.
//
// Everything here needs libsodium initialised (portico::sdk::initialise_sodium(), idempotent).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::webhooks {

// RFC 4648 §4 base64 (alphabet A–Z a–z 0–9 + /) with '=' padding.
std::string base64_encode(std::string_view bytes);
// Strict: length a multiple of 4, only alphabet characters, padding only at the end (at most
// two), no whitespace, unused trailing bits zero (so every text has one decoding and vice versa).
std::optional<std::string> base64_decode(std::string_view text);

inline constexpr std::string_view kSecretPrefix = "whsec_";
inline constexpr std::string_view kSigningKeyPrefix = "whsk_";
inline constexpr std::string_view kPublicKeyPrefix = "whpk_";
inline constexpr std::size_t kMinSecretBytes = 24;
inline constexpr std::size_t kSecretBytes = 32;

// "whsec_" + base64 of 32 random bytes.
std::string generate_secret();
// The HMAC key of a "whsec_…" secret: its base64-decoded bytes. nullopt without the prefix, with
// bad base64, or with fewer than `min_bytes` bytes (24 for endpoint secrets; the ops webhook,
// whose secret the operator writes in the config, has always accepted any non-empty key: 1).
std::optional<std::string> decode_secret(std::string_view secret,
                                         std::size_t min_bytes = kMinSecretBytes);

// "{id}.{timestamp}.{body}": what both signature kinds sign.
std::string signed_content(std::string_view msg_id, std::int64_t timestamp, std::string_view body);

// "v1,<base64 HMAC-SHA256(key, signed_content)>"; `key` is the raw (decoded) secret.
std::string sign_v1(std::string_view key, std::string_view msg_id, std::int64_t timestamp,
                    std::string_view body);

// The `webhook-signature` value: the signatures joined by single spaces (several while a secret
// rotates, one per secret; a v1a signature may sit next to v1 ones).
std::string signature_header(const std::vector<std::string>& signatures);

// Ed25519 (libsodium crypto_sign): "whsk_" + base64 of the 64-byte secret key (seed ‖ public key),
// "whpk_" + base64 of the 32-byte public key.
struct Ed25519Keys {
  std::string secret_key;  // "whsk_…": kept by the sender, never shown again
  std::string public_key;  // "whpk_…": published to receivers
};
Ed25519Keys generate_ed25519_keys();
// Raw 64-byte secret key of a "whsk_…" text; nullopt when malformed (prefix, base64, size, or a
// public half that does not belong to the seed).
std::optional<std::string> decode_signing_key(std::string_view secret_key);
// Raw 32-byte public key of a "whpk_…" text; nullopt when malformed.
std::optional<std::string> decode_public_key(std::string_view public_key);
// The "whpk_…" text belonging to a "whsk_…" text; nullopt when that is malformed.
std::optional<std::string> public_key_of(std::string_view secret_key);

// "v1a,<base64 Ed25519 signature of signed_content>"; `secret_key` is the raw 64-byte key
// (decode_signing_key). Throws std::invalid_argument for a key of another size.
std::string sign_v1a(std::string_view secret_key, std::string_view msg_id, std::int64_t timestamp,
                     std::string_view body);

// Receiver side: true when ANY space-separated signature in `header` verifies — a "v1,…" one
// against any of `secrets` ("whsec_…"), a "v1a,…" one against any of `public_keys` ("whpk_…").
// Signatures of unknown versions, malformed entries and malformed keys are skipped; comparisons
// are constant-time. It checks authenticity only: receivers also bound the timestamp
// (timestamp_is_fresh) and dedupe on webhook-id.
bool verify(std::string_view header, const std::vector<std::string>& secrets,
            const std::vector<std::string>& public_keys, std::string_view msg_id,
            std::int64_t timestamp, std::string_view body);
// The same with the `webhook-timestamp` header text exactly as received.
bool verify(std::string_view header, const std::vector<std::string>& secrets,
            const std::vector<std::string>& public_keys, std::string_view msg_id,
            std::string_view timestamp, std::string_view body);

// A `webhook-timestamp` value: 1–18 ASCII digits, nothing else; nullopt otherwise.
std::optional<std::int64_t> parse_timestamp_header(std::string_view text);

// The receiver's replay bound: |now - timestamp| within `tolerance` (Standard Webhooks suggests
// five minutes).
bool timestamp_is_fresh(std::int64_t timestamp, std::chrono::system_clock::time_point now,
                        std::chrono::seconds tolerance = std::chrono::minutes(5));

}  // namespace portico::webhooks
