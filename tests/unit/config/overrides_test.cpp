// --set section.key=value: TOML values or plain strings, tables created, errors from "--set".
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_helpers.hpp"

namespace portico::config {
namespace {

using test::errors_of;
using test::fake_env;
using test::parse_ok;
using Errors = std::vector<std::string>;

TEST(Overrides, ValuesAreParsedAsToml) {
  Config config = parse_ok("", {"server.threads=8", "server.listen=\"127.0.0.1:9000\"",
                                "server.trusted_proxies=[\"10.0.0.0/8\",\"192.168.0.0/16\"]",
                                "plugins.auth.enabled=false"});
  EXPECT_EQ(config.server.threads, 8);
  EXPECT_EQ(config.server.listen.to_string(), "127.0.0.1:9000");
  EXPECT_EQ(config.server.trusted_proxies,
            (std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"}));
  ASSERT_EQ(config.plugins.size(), 1u);
  EXPECT_FALSE(config.plugins[0].enabled);
}

TEST(Overrides, NonTomlValuesArePlainStrings) {
  Config config =
      parse_ok("", {"server.listen=127.0.0.1:9000", "logging.level=debug", "server.max_body=2MiB",
                    "server.idle_timeout=1m30s", "storage.path = /tmp/p.db"});
  EXPECT_EQ(config.server.listen.to_string(), "127.0.0.1:9000");
  EXPECT_EQ(config.logging.level, "debug");
  EXPECT_EQ(config.server.max_body, 2u << 20);
  EXPECT_EQ(config.server.idle_timeout, std::chrono::milliseconds(90'000));
  EXPECT_EQ(config.storage.path, "/tmp/p.db");
}

TEST(Overrides, ReplaceFileValues) {
  Config config = parse_ok("[server]\nthreads = 2\nmax_body = \"1MiB\"\n", {"server.threads=4"});
  EXPECT_EQ(config.server.threads, 4);
  EXPECT_EQ(config.server.max_body, 1u << 20);
}

TEST(Overrides, LaterOverridesWin) {
  EXPECT_EQ(parse_ok("", {"server.threads=4", "server.threads=6"}).server.threads, 6);
}

TEST(Overrides, CreateMissingTablesAndEnableThePlugin) {
  Config config =
      parse_ok("[plugins.auth_api_key]\n", {"plugins.webhook_delivery.allow_private_targets=true"});
  ASSERT_EQ(config.plugins.size(), 2u);
  EXPECT_EQ(config.plugins[0].name, "auth_api_key");
  const PluginEntry& webhook = config.plugins[1];
  EXPECT_EQ(webhook.name, "webhook_delivery");
  EXPECT_TRUE(webhook.enabled);
  EXPECT_EQ(webhook.file, "--set");
  EXPECT_EQ(webhook.line, 0);
  EXPECT_EQ(webhook.settings, (nlohmann::json{{"allow_private_targets", true}}));
  EXPECT_EQ(webhook.key_lines.at("allow_private_targets"), 0);
  EXPECT_TRUE(webhook.overridden_keys.contains("allow_private_targets"));
}

TEST(Overrides, CreateTiers) {
  Config config = parse_ok("", {"tiers.gold.limit=5", "tiers.gold.window=10s"});
  EXPECT_EQ(config.tiers.at("gold").limit, 5);
  EXPECT_EQ(config.tiers.at("gold").window, std::chrono::milliseconds(10'000));
}

TEST(Overrides, WholeTableAsInlineToml) {
  Config config = parse_ok("", {"server.tls={ cert = \"c.pem\", key = \"k.pem\" }"});
  ASSERT_TRUE(config.server.tls);
  EXPECT_EQ(config.server.tls->key, "k.pem");
}

TEST(Overrides, EnvironmentIsSubstitutedInOverrides) {
  EXPECT_EQ(parse_ok("", {"admin.token=${TOKEN}"}, fake_env({{"TOKEN", "t"}})).admin.token, "t");
  EXPECT_EQ(errors_of("", {"admin.token=${TOKEN}"}),
            Errors{"--set admin.token: environment variable TOKEN is not set"});
}

TEST(Overrides, ErrorsAreReportedFromSetWithoutALine) {
  EXPECT_EQ(errors_of("", {"server.threads=many"}),
            Errors{"--set server.threads: expected an integer, got a string"});
  EXPECT_EQ(errors_of("", {"server.listne=127.0.0.1:80"}),
            Errors{"--set server.listne: unknown key (did you mean 'listen'?)"});
  EXPECT_EQ(errors_of("", {"tiers.gold.limit=0"}),
            Errors{"--set tiers.gold.limit: must be at least 1, got 0"});
  EXPECT_EQ(errors_of("", {"server.listen=localhost"}),
            Errors{"--set server.listen: invalid address \"localhost\" (use host:port, e.g. "
                   "\"0.0.0.0:8080\")"});
  EXPECT_EQ(errors_of("", {"sever.threads=2"}),
            Errors{"--set sever: unknown section (did you mean 'server'?)"});
}

TEST(Overrides, RequiredKeyMissingInACreatedTable) {
  EXPECT_EQ(errors_of("", {"server.tls.cert=c.pem"}),
            Errors{"--set server.tls.key: required key is missing"});
}

TEST(Overrides, MalformedOverrides) {
  EXPECT_EQ(errors_of("", {"server.threads"}),
            Errors{"--set: invalid override \"server.threads\" (use section.key=value, e.g. "
                   "server.threads=4)"});
  EXPECT_EQ(errors_of("", {"=4"}),
            Errors{"--set: invalid override \"=4\" (use section.key=value, e.g. "
                   "server.threads=4)"});
  EXPECT_EQ(errors_of("", {"server..threads=4"}),
            Errors{"--set: invalid override \"server..threads=4\" (use section.key=value, e.g. "
                   "server.threads=4)"});
}

TEST(Overrides, CannotSetInsideAValueThatIsNotATable) {
  EXPECT_EQ(errors_of("[server]\nlisten = \"0.0.0.0:80\"\n", {"server.listen.port=81"}),
            Errors{"--set server.listen.port: server.listen is a string, not a table"});
}

TEST(Overrides, FileErrorsComeFirstThenOverrideErrors) {
  EXPECT_EQ(errors_of("[logging]\nlevel = \"loud\"\n", {"server.threads=x", "oops"}),
            (Errors{"cfg.toml:2 logging.level: must be one of trace, debug, info, warn, error, "
                    "critical, off; got \"loud\"",
                    "--set: invalid override \"oops\" (use section.key=value, e.g. "
                    "server.threads=4)",
                    "--set server.threads: expected an integer, got a string"}));
}

}  // namespace
}  // namespace portico::config
