// What a reload reports about the config: settings read only at start-up refuse it (naming each,
// without showing secrets), and live settings are listed as changes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/app/reload.hpp"

namespace portico::app {
namespace {

config::Config parse(const std::string& text) {
  return config::parse(text, "gw.toml", {}, [](const std::string&) { return std::nullopt; });
}

const char* kBase = R"(
[server]
listen = "127.0.0.1:8080"
[admin]
token = "first-token"
[security]
key_secret = "0123456789abcdef0123456789abcdef"
[tiers.basic]
limit = 100
window = "1m"
)";

TEST(ReloadChanges, IdenticalConfigsDifferInNothing) {
  auto a = parse(kBase);
  auto b = parse(kBase);
  EXPECT_TRUE(restart_only_changes(a, b).empty());
  EXPECT_TRUE(config_changes(a, b).empty());
}

TEST(ReloadChanges, StartUpSettingsNeedARestart) {
  auto running = parse(kBase);
  auto next = parse(std::string(kBase) + R"(
[storage]
path = "elsewhere.db"
)");
  next.server.listen.port = 9090;
  next.security.key_secret = "another-secret-another-secret-01";
  auto lines = restart_only_changes(running, next);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "gw.toml server.listen: needs a restart to change (running with 127.0.0.1:8080, the "
            "config says 127.0.0.1:9090)");
  EXPECT_EQ(lines[1],
            "gw.toml storage.path: needs a restart to change (running with var/portico.db, the "
            "config says elsewhere.db)");
  EXPECT_EQ(lines[2], "gw.toml security.key_secret: needs a restart to change (value not shown)");
  for (const auto& line : lines) EXPECT_EQ(line.find("another-secret"), std::string::npos);
}

TEST(ReloadChanges, BatchingAndYieldingChangeOnlyWithARestart) {
  auto running = parse(kBase);
  auto next = parse(std::string(kBase).replace(
      std::string(kBase).find("[admin]"), 0,
      "batch_sends = false\nbatch_reads = false\nyield_below_connections = 8\n"));
  ASSERT_FALSE(next.server.batch_sends);
  ASSERT_FALSE(next.server.batch_reads);
  ASSERT_EQ(next.server.yield_below_connections, 8);
  EXPECT_EQ(restart_only_changes(running, next),
            (std::vector<std::string>{"gw.toml server.batch_sends: needs a restart to change "
                                      "(running with true, the config says false)",
                                      "gw.toml server.batch_reads: needs a restart to change "
                                      "(running with true, the config says false)",
                                      "gw.toml server.yield_below_connections: needs a restart to "
                                      "change (running with 64, the config says 8)"}));
}

TEST(ReloadChanges, LiveSettingsAreListed) {
  auto running = parse(kBase);
  auto next = parse(R"(
[server]
listen = "127.0.0.1:8080"
trusted_proxies = ["10.0.0.0/8"]
[admin]
token = "second-token"
[security]
key_secret = "0123456789abcdef0123456789abcdef"
[tiers.basic]
limit = 200
window = "1m"
[tiers.gold]
limit = 5000
window = "1h"
burst = 10
[logging]
level = "debug"
)");
  EXPECT_TRUE(restart_only_changes(running, next).empty());
  auto lines = config_changes(running, next);
  std::vector<std::string> expected{
      "tiers.basic: 100 per 1m → 200 per 1m",
      "tiers.gold: added (5000 per 1h (burst 10))",
      "server.trusted_proxies: [] → [10.0.0.0/8]",
      "admin.token: changed",
      "logging.level: info → debug",
  };
  EXPECT_EQ(lines, expected);
}

TEST(ReloadChanges, ARemovedTierIsListed) {
  auto running = parse(std::string(kBase) + "[tiers.gold]\nlimit = 5\nwindow = \"1s\"\n");
  auto lines = config_changes(running, parse(kBase));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "tiers.gold: removed");
}

}  // namespace
}  // namespace portico::app
