// The SDK's SecretBox (secrets at rest, Host::seal_secret): round trip, the text form, tampering
// and truncation refused, unknown keys refused, previous keys still opening, the current-key test
// that drives re-sealing, and FakeHost sealing like the core does.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "portico/sdk/secret_box.hpp"
#include "portico/sdk/testing.hpp"

namespace portico::sdk {
namespace {

const std::string kKeyA(32, 'a');
const std::string kKeyB(32, 'b');
const std::string kKeyC(32, 'c');

// The base64 part of "sealed:v1:<key id>:<base64>".
std::string payload_of(const std::string& sealed) {
  return sealed.substr(sealed.rfind(':') + 1);
}

TEST(SecretBox, RoundTrip) {
  const SecretBox box(kKeyA);
  for (std::string plain : {std::string("whsec_c2VjcmV0IHNlY3JldCBzZWNyZXQ="), std::string(),
                            std::string("\0binary\xff", 8), std::string(10000, 'x')}) {
    const std::string sealed = box.seal(plain);
    EXPECT_EQ(box.open(sealed), plain);
  }
}

TEST(SecretBox, TextFormNamesTheKeyAndHidesThePlaintext) {
  const SecretBox box(kKeyA);
  const std::string plain = "whsec_c2VjcmV0IHNlY3JldCBzZWNyZXQ=";
  const std::string sealed = box.seal(plain);
  EXPECT_TRUE(sealed.starts_with("sealed:v1:" + box.current_key_id() + ":")) << sealed;
  EXPECT_EQ(box.current_key_id(), SecretBox::key_id(kKeyA));
  EXPECT_EQ(box.current_key_id().size(), 8u);
  EXPECT_NE(SecretBox::key_id(kKeyA), SecretBox::key_id(kKeyB));
  EXPECT_EQ(sealed.find(plain), std::string::npos);
  EXPECT_EQ(sealed.find("c2VjcmV0IHNlY3JldCBzZWNyZXQ"), std::string::npos);
  // A fresh nonce each time: the same secret never seals to the same text.
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(box.seal(plain));
  EXPECT_EQ(seen.size(), 50u);
}

TEST(SecretBox, TamperedOrTruncatedValuesThrow) {
  const SecretBox box(kKeyA);
  const std::string sealed = box.seal("whsec_c2VjcmV0IHNlY3JldCBzZWNyZXQ=");
  const std::string prefix = sealed.substr(0, sealed.rfind(':') + 1);
  const std::string payload = payload_of(sealed);
  // Flip one base64 character at a time (the nonce, the MAC, the ciphertext).
  for (std::size_t i = 0; i + 2 < payload.size(); i += 3) {
    std::string changed = payload;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_THROW(box.open(prefix + changed), std::runtime_error) << i;
  }
  EXPECT_THROW(box.open(prefix + payload.substr(0, 20)), std::runtime_error);
  EXPECT_THROW(box.open(prefix), std::runtime_error);
  EXPECT_THROW(box.open(prefix + "not base64!"), std::runtime_error);
  EXPECT_THROW(box.open("whsec_c2VjcmV0IHNlY3JldCBzZWNyZXQ="), std::runtime_error);  // plain
  EXPECT_THROW(box.open("sealed:v1:"), std::runtime_error);
  EXPECT_THROW(box.open(""), std::runtime_error);
  // Another key's MAC does not verify even under a forged key id.
  const SecretBox other(kKeyB);
  const std::string forged = prefix + payload_of(other.seal("whsec_x"));
  EXPECT_THROW(box.open(forged), std::runtime_error);
}

TEST(SecretBox, ErrorsNeverContainThePlaintext) {
  const SecretBox box(kKeyA);
  const std::string plain = "whsec_TOPSECRETTOPSECRETTOPSECRET";
  std::string sealed = box.seal(plain);
  sealed.back() = sealed.back() == 'A' ? 'B' : 'A';
  try {
    box.open(sealed);
    FAIL() << "a tampered value opened";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).find("TOPSECRET"), std::string::npos) << e.what();
  }
}

TEST(SecretBox, UnknownKeyIdThrowsNamingIt) {
  const SecretBox a(kKeyA);
  const SecretBox b(kKeyB);
  const std::string sealed = a.seal("whsec_x");
  try {
    b.open(sealed);
    FAIL() << "opened under another key";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(a.current_key_id()), std::string::npos) << what;
    EXPECT_NE(what.find("previous_data_keys"), std::string::npos) << what;
  }
}

TEST(SecretBox, PreviousKeysOpenButNeverSeal) {
  const SecretBox old_box(kKeyA);
  const std::string old_value = old_box.seal("whsec_old");
  const SecretBox rotated(kKeyB, {kKeyC, kKeyA});
  EXPECT_EQ(rotated.open(old_value), "whsec_old");
  EXPECT_EQ(rotated.current_key_id(), SecretBox::key_id(kKeyB));
  const std::string fresh = rotated.seal("whsec_new");
  EXPECT_TRUE(fresh.starts_with("sealed:v1:" + SecretBox::key_id(kKeyB) + ":")) << fresh;
  EXPECT_EQ(rotated.open(fresh), "whsec_new");
  // Once the old key is dropped, its values no longer open.
  EXPECT_THROW(SecretBox(kKeyB).open(old_value), std::runtime_error);
}

TEST(SecretBox, SealedWithCurrentKey) {
  const SecretBox old_box(kKeyA);
  const SecretBox rotated(kKeyB, {kKeyA});
  EXPECT_TRUE(rotated.sealed_with_current_key(rotated.seal("whsec_x")));
  EXPECT_FALSE(rotated.sealed_with_current_key(old_box.seal("whsec_x")));    // re-seal it
  EXPECT_FALSE(rotated.sealed_with_current_key("whsec_plain_from_before"));  // re-seal it
  EXPECT_FALSE(rotated.sealed_with_current_key(""));
  EXPECT_FALSE(
      rotated.sealed_with_current_key("sealed:v1:" + rotated.current_key_id()));  // no ':' after
}

TEST(SecretBox, KeysMustBe32Bytes) {
  EXPECT_THROW(SecretBox(std::string(31, 'k')), std::invalid_argument);
  EXPECT_THROW(SecretBox(std::string(33, 'k')), std::invalid_argument);
  EXPECT_THROW(SecretBox(kKeyA, {std::string(16, 'k')}), std::invalid_argument);
}

TEST(SecretBox, FakeHostSealsUnderItsTestKey) {
  testing::FakeHost host("routes_webhooks", nlohmann::json::object());
  const std::string sealed = host.seal_secret("whsec_x");
  EXPECT_TRUE(sealed.starts_with("sealed:v1:")) << sealed;
  EXPECT_TRUE(host.sealed_with_current_key(sealed));
  EXPECT_EQ(host.open_secret(sealed), "whsec_x");
  EXPECT_FALSE(host.sealed_with_current_key("whsec_x"));
  EXPECT_THROW(host.open_secret(SecretBox(kKeyA).seal("whsec_x")), std::runtime_error);
}

}  // namespace
}  // namespace portico::sdk
