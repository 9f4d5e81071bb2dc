// Standard Webhooks signatures: the spec's own vector, base64 strictness, secrets, rotation (two
// signatures, each valid alone), Ed25519 (v1a) and every tampering refused.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "portico/sdk/sodium.hpp"
#include "lib/webhook_signing/signing.hpp"

namespace {

using namespace portico::webhooks;

// The Standard Webhooks specification's example.
constexpr std::string_view kSpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kSpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kSpecTimestamp = 1614265330;
constexpr std::string_view kSpecBody = R"({"test": 2432232314})";
constexpr std::string_view kSpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

class Sodium : public ::testing::Environment {
 public:
  void SetUp() override { portico::sdk::initialise_sodium(); }
};
const auto* const sodium_environment = ::testing::AddGlobalTestEnvironment(new Sodium);

std::string spec_key() {
  return decode_secret(kSpecSecret).value();
}

TEST(Base64, MatchesTheRfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain) << encoded;
  }
}

TEST(Base64, RoundTripsEveryByteValueAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (std::size_t length = 0; length <= bytes.size(); ++length) {
    const std::string slice = bytes.substr(bytes.size() - length);
    const std::string encoded = base64_encode(slice);
    EXPECT_EQ(encoded.size() % 4, 0u);
    EXPECT_EQ(base64_decode(encoded), slice) << encoded;
  }
  EXPECT_EQ(base64_encode("\xFB\xFF"), "+/8=");
  EXPECT_EQ(base64_decode("+/8="), std::string("\xFB\xFF"));
}

TEST(Base64, DecodingIsStrict) {
  for (std::string_view bad : {
           "Zg=",       // not a multiple of 4
           "Zg",        // padding missing
           "Zm9",       // padding missing
           "Zh==",      // trailing bits not zero: "Zg==" is the one encoding of "f"
           "Zm9=",      // likewise for "fo" (Zm8=)
           "Z===",      // three padding characters
           "====",      // nothing but padding
           "=Zm9",      // padding first
           "Zg==Zm8=",  // padding in the middle
           "Zm9v\n",    // whitespace
           "Zm 9v",     // whitespace
           "Zm9vYmE-",  // base64url alphabet
           "Zm9vYm_y",  // base64url alphabet
           "Zm9v!A==",  // junk
       }) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

TEST(Signing, ReproducesTheStandardWebhooksSpecVector) {
  EXPECT_EQ(spec_key().size(), 24u);
  EXPECT_EQ(sign_v1(spec_key(), kSpecId, kSpecTimestamp, kSpecBody), kSpecSignature);
  EXPECT_TRUE(
      verify(kSpecSignature, {std::string(kSpecSecret)}, {}, kSpecId, kSpecTimestamp, kSpecBody));
  EXPECT_TRUE(
      verify(kSpecSignature, {std::string(kSpecSecret)}, {}, kSpecId, "1614265330", kSpecBody));
}

TEST(Signing, SignsIdDotTimestampDotBody) {
  EXPECT_EQ(signed_content("msg_1", 1700000000, "{}"), "msg_1.1700000000.{}");
  const std::string key(32, 'k');
  EXPECT_EQ(sign_v1(key, "msg_1", 1700000000, "{}"),
            "v1," + base64_encode(portico::sdk::hmac_sha256(key, "msg_1.1700000000.{}")));
}

TEST(Signing, TamperingWithAnythingFailsVerification) {
  const std::vector<std::string> secrets = {std::string(kSpecSecret)};
  EXPECT_FALSE(
      verify(kSpecSignature, secrets, {}, kSpecId, kSpecTimestamp, R"({"test": 2432232315})"));
  EXPECT_FALSE(
      verify(kSpecSignature, secrets, {}, kSpecId, kSpecTimestamp, R"({"test":2432232314})"));
  EXPECT_FALSE(verify(kSpecSignature, secrets, {}, kSpecId, kSpecTimestamp + 1, kSpecBody));
  EXPECT_FALSE(verify(kSpecSignature, secrets, {}, "msg_p5jXN8AQM9LWM0D4loKWxJeK", kSpecTimestamp,
                      kSpecBody));
  // The timestamp exactly as sent: another spelling of the same number is another message.
  EXPECT_FALSE(verify(kSpecSignature, secrets, {}, kSpecId, "01614265330", kSpecBody));
  EXPECT_FALSE(verify(kSpecSignature, secrets, {}, kSpecId, "1614265330 ", kSpecBody));
  EXPECT_FALSE(verify(kSpecSignature, secrets, {}, kSpecId, "", kSpecBody));
  // A changed signature, another secret, no secret, a signature of the wrong version.
  EXPECT_FALSE(verify("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", secrets, {}, kSpecId,
                      kSpecTimestamp, kSpecBody));
  EXPECT_FALSE(verify(kSpecSignature, {generate_secret()}, {}, kSpecId, kSpecTimestamp, kSpecBody));
  EXPECT_FALSE(verify(kSpecSignature, {}, {}, kSpecId, kSpecTimestamp, kSpecBody));
  EXPECT_FALSE(verify("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", secrets, {}, kSpecId,
                      kSpecTimestamp, kSpecBody));
  EXPECT_FALSE(verify("v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", secrets, {}, kSpecId,
                      kSpecTimestamp, kSpecBody));
  // Truncated, or not base64 at all.
  EXPECT_FALSE(verify("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ", secrets, {}, kSpecId,
                      kSpecTimestamp, kSpecBody));
  EXPECT_FALSE(verify("v1,", secrets, {}, kSpecId, kSpecTimestamp, kSpecBody));
  EXPECT_FALSE(verify("", secrets, {}, kSpecId, kSpecTimestamp, kSpecBody));
  EXPECT_FALSE(verify("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", secrets, {}, kSpecId,
                      kSpecTimestamp, kSpecBody));
}

TEST(Signing, AnyValidSignatureInTheHeaderIsEnough) {
  const std::vector<std::string> secrets = {std::string(kSpecSecret)};
  const std::string header = "v2,abc garbage v1,AAAA v1," + base64_encode(std::string(32, 'x')) +
                             " " + std::string(kSpecSignature);
  EXPECT_TRUE(verify(header, secrets, {}, kSpecId, kSpecTimestamp, kSpecBody));
  // Doubled spaces are tolerated.
  EXPECT_TRUE(verify("v1,AAAA  " + std::string(kSpecSignature), secrets, {}, kSpecId,
                     kSpecTimestamp, kSpecBody));
}

TEST(Secrets, AreWhsecPlus32RandomBytes) {
  const std::string a = generate_secret(), b = generate_secret();
  EXPECT_NE(a, b);
  ASSERT_TRUE(a.starts_with("whsec_"));
  EXPECT_EQ(a.size(), 6u + 44u);
  const auto key = decode_secret(a);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ("whsec_" + base64_encode(*key), a);
}

TEST(Secrets, BadSecretsAreRefused) {
  EXPECT_FALSE(decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));        // no prefix
  EXPECT_FALSE(decode_secret("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // prefix is exact
  EXPECT_FALSE(decode_secret("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));   // another kind of key
  EXPECT_FALSE(decode_secret("whsec_"));
  EXPECT_FALSE(decode_secret(""));
  EXPECT_FALSE(decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"));         // not base64
  EXPECT_FALSE(decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "));       // trailing space
  EXPECT_FALSE(decode_secret("whsec_" + base64_encode(std::string(23, 's'))));  // too short
  EXPECT_TRUE(decode_secret("whsec_" + base64_encode(std::string(24, 's'))));
  EXPECT_TRUE(decode_secret("whsec_" + base64_encode(std::string(64, 's'))));
  // A caller may ask for fewer bytes (the ops webhook: any non-empty key), never for none.
  EXPECT_EQ(decode_secret("whsec_YWJj", 1), "abc");
  EXPECT_FALSE(decode_secret("whsec_YWJj"));
  EXPECT_FALSE(decode_secret("whsec_", 0));
  EXPECT_FALSE(decode_secret("whsec_YWJ", 1));  // still strict base64
  // A malformed secret among the verifier's secrets is skipped, not fatal.
  EXPECT_TRUE(verify(kSpecSignature, {"nonsense", "whsec_", std::string(kSpecSecret)}, {}, kSpecId,
                     kSpecTimestamp, kSpecBody));
}

TEST(Rotation, TwoSecretsGiveTwoSignaturesEachValidAlone) {
  const std::string old_secret = generate_secret(), new_secret = generate_secret();
  const std::string body = R"({"id":"evt_1","type":"order.created"})";
  const std::string header =
      signature_header({sign_v1(*decode_secret(new_secret), "evt_1", 1700000000, body),
                        sign_v1(*decode_secret(old_secret), "evt_1", 1700000000, body)});
  const std::size_t space = header.find(' ');
  ASSERT_NE(space, std::string::npos);
  EXPECT_EQ(header.find(' ', space + 1), std::string::npos);
  EXPECT_TRUE(header.starts_with("v1,"));
  EXPECT_EQ(header.substr(space + 1, 3), "v1,");

  EXPECT_TRUE(verify(header, {old_secret}, {}, "evt_1", 1700000000, body));
  EXPECT_TRUE(verify(header, {new_secret}, {}, "evt_1", 1700000000, body));
  EXPECT_TRUE(verify(header, {new_secret, old_secret}, {}, "evt_1", 1700000000, body));
  EXPECT_FALSE(verify(header, {generate_secret()}, {}, "evt_1", 1700000000, body));
  // Each signature on its own verifies with its own secret only.
  const std::string first = header.substr(0, space), second = header.substr(space + 1);
  EXPECT_TRUE(verify(first, {new_secret}, {}, "evt_1", 1700000000, body));
  EXPECT_FALSE(verify(first, {old_secret}, {}, "evt_1", 1700000000, body));
  EXPECT_TRUE(verify(second, {old_secret}, {}, "evt_1", 1700000000, body));
  EXPECT_FALSE(verify(second, {new_secret}, {}, "evt_1", 1700000000, body));
}

TEST(SignatureHeader, JoinsWithSingleSpaces) {
  EXPECT_EQ(signature_header({}), "");
  EXPECT_EQ(signature_header({"v1,a"}), "v1,a");
  EXPECT_EQ(signature_header({"v1,a", "v1,b", "v1a,c"}), "v1,a v1,b v1a,c");
}

TEST(Ed25519, KeysHaveTheirPrefixesAndSizes) {
  const Ed25519Keys keys = generate_ed25519_keys();
  ASSERT_TRUE(keys.secret_key.starts_with("whsk_"));
  ASSERT_TRUE(keys.public_key.starts_with("whpk_"));
  EXPECT_EQ(decode_signing_key(keys.secret_key).value().size(), 64u);
  EXPECT_EQ(decode_public_key(keys.public_key).value().size(), 32u);
  EXPECT_EQ(public_key_of(keys.secret_key), keys.public_key);
  EXPECT_NE(generate_ed25519_keys().secret_key, keys.secret_key);
}

TEST(Ed25519, SignsAndVerifies) {
  const Ed25519Keys keys = generate_ed25519_keys();
  const std::string key = *decode_signing_key(keys.secret_key);
  const std::string body = R"({"type":"webhook.test"})";
  const std::string signature = sign_v1a(key, "evt_9", 1700000000, body);
  ASSERT_TRUE(signature.starts_with("v1a,"));
  EXPECT_EQ(base64_decode(signature.substr(4)).value().size(), 64u);
  EXPECT_EQ(sign_v1a(key, "evt_9", 1700000000, body), signature);  // Ed25519 is deterministic

  EXPECT_TRUE(verify(signature, {}, {keys.public_key}, "evt_9", 1700000000, body));
  EXPECT_TRUE(verify(signature, {}, {keys.public_key}, "evt_9", "1700000000", body));
  EXPECT_FALSE(verify(signature, {}, {keys.public_key}, "evt_9", 1700000000, body + " "));
  EXPECT_FALSE(verify(signature, {}, {keys.public_key}, "evt_9", 1700000001, body));
  EXPECT_FALSE(verify(signature, {}, {keys.public_key}, "evt_8", 1700000000, body));
  EXPECT_FALSE(
      verify(signature, {}, {generate_ed25519_keys().public_key}, "evt_9", 1700000000, body));
  EXPECT_FALSE(verify(signature, {}, {}, "evt_9", 1700000000, body));
  // The signature is v1a only: as a v1 signature (or checked against a secret) it means nothing.
  EXPECT_FALSE(verify("v1," + signature.substr(4), {generate_secret()}, {keys.public_key}, "evt_9",
                      1700000000, body));
  // Next to HMAC signatures, in either order.
  const std::string secret = generate_secret();
  const std::string v1 = sign_v1(*decode_secret(secret), "evt_9", 1700000000, body);
  EXPECT_TRUE(
      verify(signature_header({v1, signature}), {}, {keys.public_key}, "evt_9", 1700000000, body));
  EXPECT_TRUE(verify(signature_header({signature, v1}), {secret}, {}, "evt_9", 1700000000, body));
}

TEST(Ed25519, MalformedKeysAreRefused) {
  const Ed25519Keys keys = generate_ed25519_keys();
  const std::string raw = *decode_signing_key(keys.secret_key);
  EXPECT_FALSE(decode_signing_key(keys.public_key));
  EXPECT_FALSE(decode_signing_key(keys.secret_key.substr(5)));  // no prefix
  EXPECT_FALSE(decode_signing_key("whsk_" + base64_encode(raw.substr(0, 32))));
  // A public half that is not the seed's.
  const std::string other = *decode_public_key(generate_ed25519_keys().public_key);
  EXPECT_FALSE(decode_signing_key("whsk_" + base64_encode(raw.substr(0, 32) + other)));
  EXPECT_FALSE(decode_public_key(keys.secret_key));
  EXPECT_FALSE(decode_public_key("whpk_" + base64_encode(std::string(31, 'p'))));
  EXPECT_FALSE(public_key_of("whsk_nope"));
  EXPECT_THROW(sign_v1a(raw.substr(0, 32), "evt", 1, "{}"), std::invalid_argument);
}

TEST(Timestamps, HeaderIsDigitsOnly) {
  EXPECT_EQ(parse_timestamp_header("1614265330"), 1614265330);
  EXPECT_EQ(parse_timestamp_header("0"), 0);
  EXPECT_FALSE(parse_timestamp_header(""));
  EXPECT_FALSE(parse_timestamp_header("-1"));
  EXPECT_FALSE(parse_timestamp_header("+1614265330"));
  EXPECT_FALSE(parse_timestamp_header("1614265330.5"));
  EXPECT_FALSE(parse_timestamp_header(" 1614265330"));
  EXPECT_FALSE(parse_timestamp_header("1234567890123456789"));  // 19 digits
}

TEST(Timestamps, FreshWithinTolerance) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  EXPECT_TRUE(timestamp_is_fresh(1'700'000'000, now));
  EXPECT_TRUE(timestamp_is_fresh(1'700'000'000 - 300, now));
  EXPECT_TRUE(timestamp_is_fresh(1'700'000'000 + 300, now));
  EXPECT_FALSE(timestamp_is_fresh(1'700'000'000 - 301, now));
  EXPECT_FALSE(timestamp_is_fresh(1'700'000'000 + 301, now));
  EXPECT_FALSE(timestamp_is_fresh(0, now));
  EXPECT_TRUE(timestamp_is_fresh(1'700'000'000 - 3000, now, std::chrono::hours(1)));
}

}  // namespace
