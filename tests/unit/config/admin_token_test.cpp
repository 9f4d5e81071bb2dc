// admin.token against admin.listen: refused under 32 characters (or empty) when the admin listener
// is reachable off-host, a warning on loopback; and the warning for a ${VAR:-fallback} token.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/config/config_test_helpers.hpp"

namespace portico::config {
namespace {

using test::errors_of;
using test::fake_env;
using test::parse_ok;
using Errors = std::vector<std::string>;

const std::string kLong(32, 'k');

std::string admin(const std::string& listen, const std::string& token) {
  return "[admin]\nlisten = \"" + listen + "\"\ntoken = \"" + token + "\"\n";
}

TEST(AdminToken, ShortTokenOffHostIsRefusedNamingFileAndKey) {
  EXPECT_EQ(errors_of(admin("0.0.0.0:9901", "short")),
            Errors{"cfg.toml admin.token: must be at least 32 characters when admin.listen "
                   "(0.0.0.0:9901) is not a loopback address"});
  EXPECT_EQ(errors_of(admin("10.0.0.5:9901", std::string(31, 'k'))),
            Errors{"cfg.toml admin.token: must be at least 32 characters when admin.listen "
                   "(10.0.0.5:9901) is not a loopback address"});
  EXPECT_EQ(errors_of(admin("[::]:9901", "short")).size(), 1u);
}

TEST(AdminToken, EmptyTokenOffHostIsRefused) {
  EXPECT_EQ(errors_of("[admin]\nlisten = \"0.0.0.0:9901\"\n"),
            Errors{"cfg.toml admin.token: must be at least 32 characters when admin.listen "
                   "(0.0.0.0:9901) is not a loopback address"});
}

TEST(AdminToken, SetOverridesAreCheckedAndTheFileIsNamed) {
  EXPECT_EQ(errors_of("", {"admin.listen=0.0.0.0:9901", "admin.token=tiny"}),
            Errors{"cfg.toml admin.token: must be at least 32 characters when admin.listen "
                   "(0.0.0.0:9901) is not a loopback address"});
}

TEST(AdminToken, LongTokenOffHostIsAcceptedWithoutWarning) {
  Config config = parse_ok(admin("0.0.0.0:9901", kLong));
  EXPECT_EQ(config.admin.token, kLong);
  EXPECT_TRUE(config.warnings.empty());
}

TEST(AdminToken, ShortTokenOnLoopbackIsOnlyAWarning) {
  for (std::string listen : {"127.0.0.1:9901", "[::1]:9901", "localhost:9901", "127.0.0.2:1"}) {
    Config config = parse_ok(admin(listen, "short"));
    EXPECT_EQ(config.admin.token, "short");
    ASSERT_EQ(config.warnings.size(), 1u) << listen;
    EXPECT_NE(config.warnings[0].find("cfg.toml admin.token: shorter than 32 characters"),
              std::string::npos)
        << config.warnings[0];
  }
  EXPECT_TRUE(parse_ok(admin("127.0.0.1:9901", kLong)).warnings.empty());
  // The default listener is loopback: an empty token refuses every request, and says so.
  Config empty = parse_ok("");
  ASSERT_EQ(empty.warnings.size(), 1u);
  EXPECT_NE(empty.warnings[0].find("admin.token: empty"), std::string::npos);
}

TEST(AdminToken, ABrokenReferenceIsReportedOnce) {
  EXPECT_EQ(errors_of("[admin]\nlisten = \"0.0.0.0:9901\"\ntoken = \"${T}\"\n"),
            Errors{"cfg.toml:3 admin.token: environment variable T is not set"});
}

TEST(AdminToken, FallbackTokenInForceIsAWarningNamingTheVariable) {
  const std::string text = admin("127.0.0.1:9901", "${PORTICO_ADMIN_TOKEN:-dev-admin-token}");
  Config config = parse_ok(text);
  EXPECT_EQ(config.admin.token, "dev-admin-token");
  ASSERT_EQ(config.env_fallbacks.size(), 1u);
  EXPECT_EQ(config.env_fallbacks[0].key, "admin.token");
  EXPECT_EQ(config.env_fallbacks[0].variable, "PORTICO_ADMIN_TOKEN");
  EXPECT_EQ(config.env_fallbacks[0].fallback, "dev-admin-token");
  EXPECT_EQ(config.env_fallbacks[0].line, 3);
  EXPECT_NE(std::find(config.warnings.begin(), config.warnings.end(),
                      "admin.token is the fallback 'dev-admin-token' from cfg.toml because "
                      "PORTICO_ADMIN_TOKEN is not set; set PORTICO_ADMIN_TOKEN for anything but "
                      "a local demo"),
            config.warnings.end());

  // Set but empty: the fallback is used as well, and the warning says why.
  Config empty = parse_ok(text, {}, fake_env({{"PORTICO_ADMIN_TOKEN", ""}}));
  ASSERT_EQ(empty.env_fallbacks.size(), 1u);
  EXPECT_TRUE(empty.env_fallbacks[0].variable_empty);
  bool said = false;
  for (const auto& w : empty.warnings)
    said = said || w.find("PORTICO_ADMIN_TOKEN is empty") != w.npos;
  EXPECT_TRUE(said);

  // The variable set: no fallback, no warning.
  Config set = parse_ok(text, {}, fake_env({{"PORTICO_ADMIN_TOKEN", kLong}}));
  EXPECT_TRUE(set.env_fallbacks.empty());
  EXPECT_TRUE(set.warnings.empty());
}

TEST(AdminToken, ALongFallbackIsNotQuoted) {
  Config config = parse_ok(admin("0.0.0.0:9901", "${T:-" + kLong + "}"));
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_EQ(config.warnings[0].find(kLong), std::string::npos);
  EXPECT_NE(config.warnings[0].find("fallback of 32 characters"), std::string::npos);
}

TEST(AdminToken, FallbackOffHostStillNeeds32Characters) {
  EXPECT_EQ(errors_of(admin("0.0.0.0:9901", "${PORTICO_ADMIN_TOKEN:-dev-admin-token}")),
            Errors{"cfg.toml admin.token: must be at least 32 characters when admin.listen "
                   "(0.0.0.0:9901) is not a loopback address"});
}

}  // namespace
}  // namespace portico::config
