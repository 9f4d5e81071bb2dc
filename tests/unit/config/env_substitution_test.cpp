// ${VAR} and ${VAR:-fallback} in string values, with the environment injected.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/unit/config/config_test_helpers.hpp"

namespace portico::config {
namespace {

using test::errors_of;
using test::fake_env;
using test::parse_ok;
using Errors = std::vector<std::string>;

TEST(EnvSubstitution, PresentVariable) {
  Config config = parse_ok("[admin]\ntoken = \"${PORTICO_ADMIN_TOKEN}\"\n", {},
                           fake_env({{"PORTICO_ADMIN_TOKEN", "s3cret"}}));
  EXPECT_EQ(config.admin.token, "s3cret");
}

TEST(EnvSubstitution, InsideLongerStringsAndSeveralTimes) {
  Config config = parse_ok("[storage]\npath = \"${DATA}/portico-${ENV}.db\"\n", {},
                           fake_env({{"DATA", "/srv"}, {"ENV", "prod"}}));
  EXPECT_EQ(config.storage.path, "/srv/portico-prod.db");
}

// The toml_config fuzz target's class of bug, from the environment: bytes that are not UTF-8
// would reach settings that become JSON. Refused naming the key; the value is not repeated.
TEST(EnvSubstitution, AValueThatIsNotUtf8IsAnError) {
  Errors errors = errors_of("[admin]\ntoken = \"${PORTICO_ADMIN_TOKEN}\"\n", {},
                            fake_env({{"PORTICO_ADMIN_TOKEN", "s3cr\xa3t"}}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "cfg.toml:2 admin.token: environment variable PORTICO_ADMIN_TOKEN is not valid UTF-8 "
            "text");
}

TEST(EnvSubstitution, FallbackWhenUnsetOrEmpty) {
  const char* text = "[storage]\npath = \"${DB_PATH:-var/fallback.db}\"\n";
  EXPECT_EQ(parse_ok(text).storage.path, "var/fallback.db");
  EXPECT_EQ(parse_ok(text, {}, fake_env({{"DB_PATH", ""}})).storage.path, "var/fallback.db");
  EXPECT_EQ(parse_ok(text, {}, fake_env({{"DB_PATH", "/x.db"}})).storage.path, "/x.db");
}

TEST(EnvSubstitution, EmptyFallbackAndSetButEmptyVariable) {
  EXPECT_EQ(parse_ok("[admin]\ntoken = \"${TOKEN:-}\"\n").admin.token, "");
  EXPECT_EQ(parse_ok("[admin]\ntoken = \"${TOKEN}\"\n", {}, fake_env({{"TOKEN", ""}})).admin.token,
            "");
}

TEST(EnvSubstitution, MissingVariableIsAnErrorOnThatKey) {
  EXPECT_EQ(errors_of("[admin]\nlisten = \"127.0.0.1:9901\"\ntoken = \"${PORTICO_ADMIN_TOKEN}\"\n"),
            Errors{"cfg.toml:3 admin.token: environment variable PORTICO_ADMIN_TOKEN is not set"});
}

TEST(EnvSubstitution, EveryMissingVariableIsReported) {
  EXPECT_EQ(errors_of("[storage]\npath = \"${A}/${B}\"\n"),
            (Errors{"cfg.toml:2 storage.path: environment variable A is not set",
                    "cfg.toml:2 storage.path: environment variable B is not set"}));
}

TEST(EnvSubstitution, InsideArrays) {
  Config config = parse_ok("[server]\ntrusted_proxies = [\"${PROXY}\", \"${OTHER:-10.0.0.0/8}\"]\n",
                           {}, fake_env({{"PROXY", "172.16.0.0/12"}}));
  EXPECT_EQ(config.server.trusted_proxies,
            (std::vector<std::string>{"172.16.0.0/12", "10.0.0.0/8"}));
  EXPECT_EQ(errors_of("[server]\ntrusted_proxies = [\n  \"a\",\n  \"${PROXY}\",\n]\n"),
            Errors{"cfg.toml:4 server.trusted_proxies: environment variable PROXY is not set"});
}

TEST(EnvSubstitution, InsidePluginSettings) {
  Config config = parse_ok(
      "[plugins.webhook]\nsecret = \"${HOOK_SECRET}\"\nnested = { a = \"${HOOK_SECRET}\" }\n", {},
      fake_env({{"HOOK_SECRET", "h"}}));
  ASSERT_EQ(config.plugins.size(), 1u);
  EXPECT_EQ(config.plugins[0].settings["secret"], "h");
  EXPECT_EQ(config.plugins[0].settings["nested"]["a"], "h");
  EXPECT_EQ(
      errors_of("[plugins.webhook]\nsecret = \"${HOOK_SECRET}\"\n"),
      Errors{"cfg.toml:2 plugins.webhook.secret: environment variable HOOK_SECRET is not set"});
}

TEST(EnvSubstitution, DollarDollarIsALiteral) {
  EXPECT_EQ(parse_ok("[admin]\ntoken = \"a$${B}c$d\"\n").admin.token, "a${B}c$d");
}

TEST(EnvSubstitution, MalformedReferences) {
  EXPECT_EQ(errors_of("[admin]\ntoken = \"${TOKEN\"\n"),
            Errors{"cfg.toml:2 admin.token: unterminated \"${\" (write ${NAME} or "
                   "${NAME:-fallback})"});
  EXPECT_EQ(errors_of("[admin]\ntoken = \"${1X}\"\n"),
            Errors{"cfg.toml:2 admin.token: invalid environment variable name \"1X\""});
}

TEST(EnvSubstitution, NonStringValuesAreUntouched) {
  EXPECT_EQ(parse_ok("[server]\nthreads = 3\n").server.threads, 3);
}

TEST(EnvSubstitution, ProcessEnvReadsTheRealEnvironment) {
  ::setenv("PORTICO_CONFIG_TEST_TOKEN", "from-process", 1);
  EXPECT_EQ(process_env()("PORTICO_CONFIG_TEST_TOKEN"), "from-process");
  ::unsetenv("PORTICO_CONFIG_TEST_TOKEN");
  EXPECT_EQ(process_env()("PORTICO_CONFIG_TEST_TOKEN"), std::nullopt);
}

}  // namespace
}  // namespace portico::config
