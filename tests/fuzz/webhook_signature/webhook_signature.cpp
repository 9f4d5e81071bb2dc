// Fuzz target: Standard Webhooks signature verification as a receiver runs it. The first byte
// picks the mode; the rest is `webhook-signature` NL `webhook-id` NL `webhook-timestamp` NL body.
//   even  verify() with the headers as given against a fixed whsec_ secret and a fixed whpk_
//         public key: it must not throw, and it may only say yes to a v1 entry that is exactly
//         the expected HMAC or to a v1a entry that verifies under the public key;
//   odd   the same headers plus the genuine v1 and v1a signatures of this message appended: then
//         verify() must say yes, and no for the same header over another body or with another
//         timestamp.
// Every header entry and the header itself are also read as keys and base64 (decode_secret,
// decode_public_key, decode_signing_key, public_key_of, base64_decode/encode round trips).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/sdk/sodium.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "lib/webhook_signing/signing.hpp"

namespace {

namespace fuzz = portico::fuzz;
namespace wh = portico::webhooks;

struct Keys {
  std::string secret;      // whsec_…
  std::string hmac_key;    // its raw bytes
  std::string signing;     // raw 64-byte Ed25519 secret key
  std::string public_key;  // whpk_…
};

const Keys& keys() {
  static const Keys k = [] {
    Keys out;
    out.secret =
        std::string(wh::kSecretPrefix) + wh::base64_encode("fuzz-webhook-secret-32-bytes-key");
    out.hmac_key = *wh::decode_secret(out.secret);
    const wh::Ed25519Keys pair = wh::generate_ed25519_keys();
    out.signing = *wh::decode_signing_key(pair.secret_key);
    out.public_key = pair.public_key;
    return out;
  }();
  return k;
}

void read_as_keys(std::string_view text) {
  if (auto decoded = wh::base64_decode(text)) {
    fuzz::check(wh::base64_encode(*decoded) == text, "base64 text with two spellings");
  }
  const std::string encoded = wh::base64_encode(text);
  const auto back = wh::base64_decode(encoded);
  fuzz::check(back && *back == text, "base64 does not round-trip");
  if (auto secret = wh::decode_secret(text)) {
    fuzz::check(secret->size() >= wh::kMinSecretBytes, "a short secret accepted");
  }
  (void)wh::decode_public_key(text);
  if (auto signing = wh::decode_signing_key(text)) {
    fuzz::check(signing->size() == 64, "a signing key of the wrong size");
    const auto published = wh::public_key_of(text);
    fuzz::check(published && wh::decode_public_key(*published).has_value(),
                "a valid signing key without a public key");
  }
}

// Whether `header` holds the exact v1 signature or a v1a one the public key accepts.
bool holds_genuine(std::string_view header, std::string_view id, std::string_view timestamp,
                   std::string_view body) {
  const std::string content =
      std::string(id) + "." + std::string(timestamp) + "." + std::string(body);
  const std::string v1 =
      "v1," + wh::base64_encode(portico::sdk::hmac_sha256(keys().hmac_key, content));
  for (std::string_view entry : fuzz::split(header, ' ', header.size() + 1)) {
    if (entry == v1) return true;
    if (entry.starts_with("v1a,") &&
        wh::verify(entry, {}, {keys().public_key}, id, timestamp, body)) {
      return true;
    }
  }
  return false;
}

void run(bool append_genuine, std::string_view rest) {
  const auto parts = fuzz::split(rest, '\n', 4);
  std::string header(parts[0]);
  const std::string_view id = parts.size() > 1 ? parts[1] : "msg_2Lh7";
  const std::string_view timestamp = parts.size() > 2 ? parts[2] : "1764151200";
  const std::string_view body = parts.size() > 3 ? parts[3] : "{}";
  for (std::string_view entry : fuzz::split(header, ' ', 8)) read_as_keys(entry);

  const auto seconds = wh::parse_timestamp_header(timestamp);
  if (append_genuine && seconds) {
    const std::string v1 = wh::sign_v1(keys().hmac_key, id, *seconds, body);
    const std::string v1a = wh::sign_v1a(keys().signing, id, *seconds, body);
    header = wh::signature_header({header, v1, v1a});
  }
  const std::vector<std::string> secrets = {keys().secret};
  const std::vector<std::string> public_keys = {keys().public_key};
  const bool ok = wh::verify(header, secrets, public_keys, id, timestamp, body);
  if (seconds) {
    (void)wh::timestamp_is_fresh(*seconds, std::chrono::system_clock::now());
    // The numeric timestamp signs its decimal text: the same answer when that is how it came.
    if (std::to_string(*seconds) == timestamp) {
      fuzz::check(wh::verify(header, secrets, public_keys, id, *seconds, body) == ok,
                  "verify by number and by text disagree");
    }
  }
  if (ok) {
    fuzz::check(holds_genuine(header, id, timestamp, body), "a forged signature verified", header);
  }
  if (append_genuine && seconds && std::to_string(*seconds) == timestamp) {
    fuzz::check(ok, "a genuine signature did not verify", header);
    const std::string other_body = std::string(body) + " ";
    fuzz::check(!wh::verify(header, secrets, public_keys, id, timestamp, other_body) ||
                    holds_genuine(header, id, timestamp, other_body),
                "a signature verified over another body");
    const std::string other_time = std::to_string(*seconds + 1);
    fuzz::check(!wh::verify(header, secrets, public_keys, id, other_time, body) ||
                    holds_genuine(header, id, other_time, body),
                "a signature verified with another timestamp");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  portico::sdk::initialise_sodium();
  (void)keys();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = fuzz::as_text(data + 1, size - 1);
  fuzz::expect_only<fuzz::Never>([&] { run(data[0] % 2 == 1, rest); });
  return 0;
}
