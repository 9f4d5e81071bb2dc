// [security] data_key, data_key_file, previous_data_keys: the key text accepted (hex or base64 of
// 32 bytes), refusals naming file:line and the key without repeating its text, and the
// environment-variable form production uses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config/data_key.hpp"
#include "tests/unit/config/config_test_helpers.hpp"

namespace portico::config {
namespace {

using test::errors_of;
using test::fake_env;
using test::parse_ok;

const std::string kHexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
// The same 32 bytes in base64.
const std::string kBase64Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const std::string kRaw = [] {
  std::string raw;
  for (int i = 0; i < 32; ++i) raw.push_back(static_cast<char>(i));
  return raw;
}();

TEST(DataKey, HexAndBase64Of32Bytes) {
  EXPECT_EQ(parse_data_key(kHexKey), kRaw);
  EXPECT_EQ(parse_data_key("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"),
            kRaw);
  EXPECT_EQ(parse_data_key(kBase64Key), kRaw);
  EXPECT_EQ(parse_data_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"), kRaw);  // no padding
  EXPECT_EQ(parse_data_key("  " + kHexKey + "\n"), kRaw);  // as a key file holds it
  const std::string ff(32, '\xff');
  EXPECT_EQ(parse_data_key("__________________________________________8="), ff);  // URL-safe
  EXPECT_EQ(parse_data_key("//////////////////////////////////////////8="), ff);
}

TEST(DataKey, ShortTextAndMistypedRawKeysAreRefused) {
  for (std::string text :
       {std::string(), std::string("   "), kHexKey.substr(2), kHexKey + "00",
        std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ=="),  // 34 bytes, padded
        std::string("a passphrase of 31 characters!!")}) {
    EXPECT_FALSE(parse_data_key(text)) << text;
  }
}

// Like security.key_secret: 32 or more characters of secret text (an environment variable holding
// a random string) make a key through BLAKE2b, the same one every time.
TEST(DataKey, LongSecretTextIsHashedIntoAKey) {
  const std::string text = "hook-check-data-key-0123456789abcdef0123456789ab";
  auto key = parse_data_key(text);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ(parse_data_key("  " + text + "\n"), key);
  EXPECT_NE(parse_data_key(text + "c"), key);
  EXPECT_NE(*key, text.substr(0, 32));
}

TEST(DataKey, DefaultsToTheKeyFile) {
  Config config = parse_ok("");
  EXPECT_EQ(config.security.data_key, "");
  EXPECT_EQ(config.security.data_key_file, "");
  EXPECT_TRUE(config.security.previous_data_keys.empty());
}

TEST(DataKey, ReadsEveryKey) {
  Config config = parse_ok("[security]\ndata_key = \"" + kHexKey + "\"\nprevious_data_keys = [\"" +
                           kBase64Key + "\"]\n");
  EXPECT_EQ(config.security.data_key, kHexKey);
  EXPECT_EQ(config.security.previous_data_keys, std::vector<std::string>{kBase64Key});
  config = parse_ok("[security]\ndata_key_file = \"/etc/portico/data.key\"\n");
  EXPECT_EQ(config.security.data_key_file, "/etc/portico/data.key");
}

TEST(DataKey, FromTheEnvironment) {
  const std::string text = "[security]\ndata_key = \"${PORTICO_DATA_KEY}\"\n";
  EXPECT_EQ(parse_ok(text, {}, fake_env({{"PORTICO_DATA_KEY", kHexKey}})).security.data_key,
            kHexKey);
  auto errors = errors_of(text);  // unset: the environment error, named once
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with("cfg.toml:2 security.data_key: ")) << errors[0];
  EXPECT_NE(errors[0].find("PORTICO_DATA_KEY"), std::string::npos) << errors[0];
}

TEST(DataKey, BadKeysAreNamedWithFileAndLineButNeverQuoted) {
  const std::string secret_looking = "secret-looking-but-too-short";
  auto errors = errors_of("[security]\nclient_ip_limit = 10\ndata_key = \"" + secret_looking +
                          "\"\nprevious_data_keys = [\"" + kHexKey + "\", \"short\"]\n");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(
      errors[0].starts_with("cfg.toml:3 security.data_key: is not a data key: give 64 hex "
                            "digits, the base64 of 32 random bytes, or at least 32 characters"))
      << errors[0];
  EXPECT_TRUE(errors[1].starts_with("cfg.toml:4 security.previous_data_keys[1]: is not a data key"))
      << errors[1];
  for (const auto& error : errors) {
    EXPECT_EQ(error.find(secret_looking), std::string::npos) << error;
    EXPECT_EQ(error.find("short"), std::string::npos) << error;
  }
}

TEST(DataKey, AnEmptyDataKeyIsAnErrorNotASilentFallback) {
  // PORTICO_DATA_KEY= (set but empty) would otherwise switch to a newly generated key file.
  auto errors = errors_of("[security]\ndata_key = \"${PORTICO_DATA_KEY}\"\n", {},
                          fake_env({{"PORTICO_DATA_KEY", ""}}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with("cfg.toml:2 security.data_key: is empty")) << errors[0];
}

TEST(DataKey, NotBothAKeyAndAKeyFile) {
  auto errors =
      errors_of("[security]\ndata_key = \"" + kHexKey + "\"\ndata_key_file = \"var/data.key\"\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "cfg.toml:3 security.data_key_file: set either data_key or data_key_file, not both");
}

TEST(DataKey, SetOnTheCommandLine) {
  Config config = parse_ok("", {"security.data_key=" + kHexKey});
  EXPECT_EQ(config.security.data_key, kHexKey);
  auto errors = errors_of("", {"security.data_key=nope"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with("--set security.data_key: is not a data key")) << errors[0];
}

}  // namespace
}  // namespace portico::config
