// A valid config becomes typed sections; what is left out takes the documented defaults.
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_helpers.hpp"

namespace portico::config {
namespace {

using std::chrono::milliseconds;
using test::parse_ok;

TEST(Sections, EmptyConfigHasEveryDefault) {
  Config config = parse_ok("");
  EXPECT_EQ(config.file, "cfg.toml");
  EXPECT_EQ(config.server.listen.to_string(), "0.0.0.0:8080");
  EXPECT_EQ(config.server.threads, 0);
  EXPECT_EQ(config.server.max_body, 1u << 20);
  EXPECT_EQ(config.server.max_header, 16u << 10);
  EXPECT_EQ(config.server.header_timeout, milliseconds(10'000));
  EXPECT_EQ(config.server.idle_timeout, milliseconds(60'000));
  EXPECT_EQ(config.server.shutdown_timeout, milliseconds(10'000));
  EXPECT_TRUE(config.server.trusted_proxies.empty());
  EXPECT_FALSE(config.server.tls);
  EXPECT_TRUE(config.server.batch_sends);
  EXPECT_TRUE(config.server.batch_reads);
  EXPECT_EQ(config.server.yield_below_connections, 64);
  EXPECT_EQ(config.admin.listen.to_string(), "127.0.0.1:9901");
  EXPECT_EQ(config.admin.token, "");
  EXPECT_EQ(config.storage.backend, "sqlite");
  EXPECT_EQ(config.storage.path, "var/portico.db");
  EXPECT_EQ(config.logging.dir, "var/log");
  EXPECT_EQ(config.logging.retention_days, 90);
  EXPECT_EQ(config.logging.level, "info");
  EXPECT_EQ(config.plugins_dir, "build/plugins");
  EXPECT_TRUE(config.plugins.empty());

  ASSERT_EQ(config.tiers.size(), 2u);
  const TierConfig& basic = config.tiers.at("basic");
  EXPECT_EQ(basic.name, "basic");
  EXPECT_EQ(basic.limit, 100);
  EXPECT_EQ(basic.window, milliseconds(60'000));
  EXPECT_EQ(basic.burst, 0);
  const TierConfig& premium = config.tiers.at("premium");
  EXPECT_EQ(premium.limit, 1000);
  EXPECT_EQ(premium.window, milliseconds(60'000));
}

TEST(Sections, ReadsEveryKey) {
  Config config = parse_ok(R"(
[server]
listen = "127.0.0.1:0"
threads = 4
max_body = "2MiB"
max_header = 32768
header_timeout = "5s"
idle_timeout = "1m30s"
shutdown_timeout = "250ms"
trusted_proxies = ["10.0.0.0/8", "192.168.0.0/16"]
batch_sends = false
batch_reads = false
yield_below_connections = 0

[server.tls]
listen = "[::1]:8443"
cert = "certs/server.pem"
key = "certs/server.key"

[admin]
listen = "127.0.0.1:9999"
token = "secret"

[storage]
backend = "sqlite"
path = "/tmp/p.db"

[logging]
dir = "/var/log/portico"
retention_days = 7
level = "debug"

[plugins]
dir = "/opt/portico/plugins"
)");
  EXPECT_EQ(config.server.listen.host, "127.0.0.1");
  EXPECT_EQ(config.server.listen.port, 0);
  EXPECT_EQ(config.server.threads, 4);
  EXPECT_EQ(config.server.max_body, 2u << 20);
  EXPECT_EQ(config.server.max_header, 32768u);
  EXPECT_EQ(config.server.header_timeout, milliseconds(5'000));
  EXPECT_EQ(config.server.idle_timeout, milliseconds(90'000));
  EXPECT_EQ(config.server.shutdown_timeout, milliseconds(250));
  EXPECT_EQ(config.server.trusted_proxies,
            (std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"}));
  EXPECT_FALSE(config.server.batch_sends);
  EXPECT_FALSE(config.server.batch_reads);
  EXPECT_EQ(config.server.yield_below_connections, 0);
  ASSERT_TRUE(config.server.tls);
  EXPECT_EQ(config.server.tls->listen.host, "::1");
  EXPECT_EQ(config.server.tls->listen.port, 8443);
  EXPECT_EQ(config.server.tls->cert, "certs/server.pem");
  EXPECT_EQ(config.server.tls->key, "certs/server.key");
  EXPECT_EQ(config.admin.listen.to_string(), "127.0.0.1:9999");
  EXPECT_EQ(config.admin.token, "secret");
  EXPECT_EQ(config.storage.path, "/tmp/p.db");
  EXPECT_EQ(config.logging.dir, "/var/log/portico");
  EXPECT_EQ(config.logging.retention_days, 7);
  EXPECT_EQ(config.logging.level, "debug");
  EXPECT_EQ(config.plugins_dir, "/opt/portico/plugins");
}

TEST(Sections, TlsListenDefaults) {
  Config config = parse_ok("[server.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n");
  ASSERT_TRUE(config.server.tls);
  EXPECT_EQ(config.server.tls->listen.to_string(), "0.0.0.0:8443");
}

TEST(Sections, TlsAsInlineTable) {
  Config config = parse_ok("[server]\ntls = { cert = \"c.pem\", key = \"k.pem\" }\n");
  ASSERT_TRUE(config.server.tls);
  EXPECT_EQ(config.server.tls->cert, "c.pem");
}

TEST(Sections, ConfiguredBasicReplacesTheDefaultAndOtherTiersAreAdded) {
  Config config = parse_ok(R"(
[tiers.basic]
limit = 10
window = "1s"
burst = 5

[tiers.gold]
limit = 5000
)");
  ASSERT_EQ(config.tiers.size(), 3u);
  EXPECT_EQ(config.tiers.at("basic").limit, 10);
  EXPECT_EQ(config.tiers.at("basic").window, milliseconds(1'000));
  EXPECT_EQ(config.tiers.at("basic").burst, 5);
  EXPECT_EQ(config.tiers.at("premium").limit, 1000);
  EXPECT_EQ(config.tiers.at("gold").name, "gold");
  EXPECT_EQ(config.tiers.at("gold").limit, 5000);
  EXPECT_EQ(config.tiers.at("gold").window, milliseconds(60'000));
}

TEST(Sections, TheContractExampleParses) {
  Config config = parse_ok(R"([server]
listen = "0.0.0.0:8080"
threads = 0
max_body = "1MiB"
max_header = "16KiB"
header_timeout = "10s"
idle_timeout = "60s"
trusted_proxies = []

[admin]
listen = "127.0.0.1:9901"
token = "${PORTICO_ADMIN_TOKEN}"

[storage]
backend = "sqlite"
path = "var/portico.db"

[logging]
dir = "var/log"
retention_days = 90
level = "info"

[tiers.basic]
limit = 100
window = "1m"

[tiers.premium]
limit = 1000
window = "1m"

[plugins]
dir = "build/plugins"

[plugins.auth_api_key]
enabled = true
version = "^1"

[plugins.webhook_delivery]
allow_private_targets = false
)",
                           {}, test::fake_env({{"PORTICO_ADMIN_TOKEN", "tok"}}));
  EXPECT_EQ(config.admin.token, "tok");
  ASSERT_EQ(config.plugins.size(), 2u);
  EXPECT_EQ(config.plugins[0].name, "auth_api_key");
  EXPECT_EQ(config.plugins[1].name, "webhook_delivery");
}

}  // namespace
}  // namespace portico::config

namespace portico::config {
namespace {

TEST(Sections, SecurityAndMonitoringSections) {
  Config defaults = test::parse_ok("");
  EXPECT_EQ(defaults.security.key_secret, "");
  EXPECT_EQ(defaults.security.auth_failure_limit, 20);
  EXPECT_EQ(defaults.security.lockout, std::chrono::minutes(15));
  EXPECT_EQ(defaults.monitoring.ops_webhook_url, "");

  Config set = test::parse_ok(
      "[security]\nkey_secret = \"0123456789abcdef0123456789abcdef\"\nauth_failure_limit = 3\n"
      "lockout = \"30s\"\n[monitoring]\nops_webhook_url = \"http://127.0.0.1:9/ops\"\n"
      "ops_webhook_secret = \"whsec_abc\"\n");
  EXPECT_EQ(set.security.key_secret, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(set.security.auth_failure_limit, 3);
  EXPECT_EQ(set.security.lockout, std::chrono::seconds(30));
  EXPECT_EQ(set.monitoring.ops_webhook_url, "http://127.0.0.1:9/ops");
  EXPECT_EQ(set.monitoring.ops_webhook_secret, "whsec_abc");
}

}  // namespace
}  // namespace portico::config
