// Partners, keys, tiers, allow-lists, lockout, scopes and usage through the real binary: the
// admin API creates partners and keys; partner requests go to GET /v1/usage (scope usage:read).
#include <gtest/gtest.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "tests/integration/gateway_fixture.hpp"

namespace portico::test {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Admin {
  std::uint16_t port;
  int partners_created = 0;
  HttpResponse call(const std::string& method, const std::string& path,
                    const json& body = nullptr) {
    Headers headers{{"Authorization", "Bearer test-admin-token"}};
    std::string text;
    if (!body.is_null()) {
      headers.emplace_back("Content-Type", "application/json");
      text = body.dump();
    }
    return http_request(port, method, "/admin/v1" + path, headers, text);
  }
  // Partner names are unique: "Acme basic 1", "Acme basic 2", ...
  std::string partner(const std::string& tier, json cidrs = json::array()) {
    std::string name = "Acme " + tier + " " + std::to_string(++partners_created);
    auto res =
        call("POST", "/partners", {{"name", name}, {"tier", tier}, {"allowed_cidrs", cidrs}});
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body)["id"];
  }
  json key(const std::string& partner_id, json body = json::object()) {
    auto res = call("POST", "/partners/" + partner_id + "/keys", body);
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body);
  }
};

HttpResponse usage(std::uint16_t port, const std::string& key, Headers extra = {}) {
  extra.emplace_back("X-API-Key", key);
  return http_request(port, "GET", "/v1/usage", extra);
}

std::vector<std::string> with_plugins(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--set", "plugins.auth_api_key.enabled=true", "--set",
                                "plugins.ratelimit_sliding_window.enabled=true"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(Partners, AdminCreatesPartnerAndKeyShownOnce) {
  Gateway gw(with_plugins());
  Admin admin{gw.admin_port};
  auto created = admin.call("POST", "/partners", {{"name", "Acme"}, {"tier", "basic"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto partner = json::parse(created.body);
  EXPECT_EQ(partner["name"], "Acme");
  EXPECT_EQ(partner["tier"], "basic");
  EXPECT_EQ(partner["status"], "active");
  auto key = admin.key(partner["id"]);
  std::string plain = key["key"];
  EXPECT_EQ(plain.rfind("pk_live_", 0), 0u);
  auto list = admin.call("GET", "/partners/" + partner["id"].get<std::string>() + "/keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(plain), std::string::npos);  // never shown again
  EXPECT_EQ(usage(gw.port, plain).status, 200);
}

TEST(Partners, BasicTierAllows100ThenRefusesWithRetryAfterAndHeaders) {
  Gateway gw(with_plugins());
  Admin admin{gw.admin_port};
  std::string key = admin.key(admin.partner("basic"))["key"];
  HttpConnection c("127.0.0.1", gw.port);
  for (int i = 1; i <= 100; ++i) {
    auto res = c.request("GET", "/v1/usage", {{"X-API-Key", key}});
    ASSERT_EQ(res.status, 200) << "request " << i << ": " << res.body;
    if (i == 1) {
      EXPECT_EQ(res.header("RateLimit-Policy"), "\"basic\";q=100;w=60");
      EXPECT_EQ(res.header("X-RateLimit-Limit"), "100");
      EXPECT_EQ(res.header("X-RateLimit-Remaining"), "99");
      auto rl = res.header("RateLimit");
      ASSERT_TRUE(rl);
      EXPECT_EQ(rl->rfind("\"basic\";r=99;t=", 0), 0u) << *rl;
    }
  }
  auto refused = c.request("GET", "/v1/usage", {{"X-API-Key", key}});
  EXPECT_EQ(refused.status, 429);
  auto body = json::parse(refused.body);
  EXPECT_EQ(body["code"], "rate_limited");
  ASSERT_TRUE(refused.header("Retry-After"));
  int retry = std::stoi(*refused.header("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(refused.header("X-RateLimit-Remaining"), "0");
}

TEST(Partners, PremiumTierAllows1000) {
  Gateway gw(with_plugins());
  Admin admin{gw.admin_port};
  std::string key = admin.key(admin.partner("premium"))["key"];
  HttpConnection c("127.0.0.1", gw.port);
  for (int i = 1; i <= 1000; ++i) {
    auto res = c.request("GET", "/v1/usage", {{"X-API-Key", key}});
    ASSERT_EQ(res.status, 200) << "request " << i;
  }
  EXPECT_EQ(c.request("GET", "/v1/usage", {{"X-API-Key", key}}).status, 429);
}

TEST(Partners, UnknownRevokedAndDisabledAllGetTheSame401) {
  Gateway gw(with_plugins());
  Admin admin{gw.admin_port};
  std::string partner = admin.partner("basic");
  auto key = admin.key(partner);
  std::string plain = key["key"];
  ASSERT_EQ(usage(gw.port, plain).status, 200);

  auto unknown = usage(gw.port, "pk_live_" + std::string(32, 'A'));
  EXPECT_EQ(unknown.status, 401);
  EXPECT_TRUE(unknown.header("WWW-Authenticate"));

  ASSERT_EQ(
      admin.call("DELETE", "/partners/" + partner + "/keys/" + key["id"].get<std::string>()).status,
      204);
  auto revoked = usage(gw.port, plain);
  EXPECT_EQ(revoked.status, 401);
  EXPECT_EQ(json::parse(revoked.body)["detail"], json::parse(unknown.body)["detail"]);

  std::string other = admin.partner("basic");
  std::string other_key = admin.key(other)["key"];
  ASSERT_EQ(usage(gw.port, other_key).status, 200);
  ASSERT_EQ(admin.call("PATCH", "/partners/" + other, {{"status", "disabled"}}).status, 200);
  auto disabled = usage(gw.port, other_key);
  EXPECT_EQ(disabled.status, 401);
  EXPECT_EQ(json::parse(disabled.body)["detail"], json::parse(unknown.body)["detail"]);
}

TEST(Partners, ExpiredKeyIsRefused) {
  Gateway gw(with_plugins());
  Admin admin{gw.admin_port};
  std::string partner = admin.partner("basic");
  std::string plain = admin.key(partner, {{"expires_at", "2020-01-01T00:00:00Z"}})["key"];
  EXPECT_EQ(usage(gw.port, plain).status, 401);
}

TEST(Partners, RotationKeepsTheOldKeyForTheOverlapOnly) {
  Gateway gw(with_plugins());
  Admin admin{gw.admin_port};
  std::string partner = admin.partner("premium");
  auto old_key = admin.key(partner);
  std::string path =
      "/partners/" + partner + "/keys/" + old_key["id"].get<std::string>() + "/rotate";
  auto rotated = admin.call("POST", path, {{"overlap_seconds", 3600}});
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  std::string new_key = json::parse(rotated.body)["key"];
  EXPECT_EQ(usage(gw.port, new_key).status, 200);
  EXPECT_EQ(usage(gw.port, old_key["key"]).status, 200);  // inside the overlap

  auto second = admin.key(partner);
  std::string path2 =
      "/partners/" + partner + "/keys/" + second["id"].get<std::string>() + "/rotate";
  ASSERT_EQ(admin.call("POST", path2, {{"overlap_seconds", 0}}).status, 201);
  EXPECT_EQ(usage(gw.port, second["key"]).status, 401);  // no overlap: gone at once
}

TEST(Partners, AllowListV4AndTrustedProxy) {
  Gateway gw(with_plugins({"--set", "server.trusted_proxies=[\"127.0.0.1/32\"]"}));
  Admin admin{gw.admin_port};
  std::string key = admin.key(admin.partner("premium", {"10.0.0.0/8"}))["key"];
  auto direct = usage(gw.port, key);
  EXPECT_EQ(direct.status, 403);
  EXPECT_EQ(json::parse(direct.body)["code"], "ip_not_allowed");
  EXPECT_EQ(usage(gw.port, key, {{"X-Forwarded-For", "10.1.2.3"}}).status, 200);
  EXPECT_EQ(usage(gw.port, key, {{"X-Forwarded-For", "192.168.1.1"}}).status, 403);
}

TEST(Partners, AllowListV6ThroughTrustedProxy) {
  Gateway gw(with_plugins({"--set", "server.trusted_proxies=[\"127.0.0.1\"]"}));
  Admin admin{gw.admin_port};
  std::string key = admin.key(admin.partner("premium", {"2001:db8::/32"}))["key"];
  EXPECT_EQ(usage(gw.port, key, {{"X-Forwarded-For", "2001:db8::7"}}).status, 200);
  EXPECT_EQ(usage(gw.port, key, {{"X-Forwarded-For", "2001:db9::7"}}).status, 403);
}

TEST(Partners, UntrustedForwardedForIsIgnored) {
  Gateway gw(with_plugins());  // no trusted proxies
  Admin admin{gw.admin_port};
  std::string key = admin.key(admin.partner("premium", {"10.0.0.0/8"}))["key"];
  EXPECT_EQ(usage(gw.port, key, {{"X-Forwarded-For", "10.1.2.3"}}).status, 403);
}

TEST(Partners, RepeatedAuthFailuresLockTheIpOut) {
  Gateway gw(with_plugins({"--set", "security.auth_failure_limit=3"}));
  Admin admin{gw.admin_port};
  std::string key = admin.key(admin.partner("premium"))["key"];
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(usage(gw.port, "pk_live_" + std::string(32, 'B')).status, 401);
  auto locked = usage(gw.port, key);
  EXPECT_EQ(locked.status, 429);
  EXPECT_TRUE(locked.header("Retry-After"));
  EXPECT_NE(gw.process->output().find("127.0.0.1"), std::string::npos);  // logged
}

TEST(Partners, MissingScopeIs403) {
  Gateway gw(with_plugins());
  Admin admin{gw.admin_port};
  std::string key = admin.key(admin.partner("basic"), {{"scopes", {"products:read"}}})["key"];
  auto res = usage(gw.port, key);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(json::parse(res.body)["code"], "insufficient_scope");
}

TEST(Partners, UsageCountsSurviveARestartAndThePlainKeyIsNowhere) {
  TempDir keep;
  std::string plain;
  std::uint16_t admin_port = free_port();
  std::vector<std::string> fixed{"--set", "storage.path=" + (keep / "p.db").string(), "--set",
                                 "logging.dir=" + (keep / "log").string()};
  {
    Gateway gw(with_plugins(fixed));
    Admin admin{gw.admin_port};
    plain = admin.key(admin.partner("basic"))["key"];
    for (int i = 0; i < 5; ++i) ASSERT_EQ(usage(gw.port, plain).status, 200);
    gw.process->signal(SIGTERM);
    ASSERT_EQ(gw.process->wait_exit(std::chrono::seconds(10)), 0);
    EXPECT_EQ(gw.process->output().find(plain), std::string::npos);
  }
  (void)admin_port;
  Gateway again(with_plugins(fixed));
  auto res = usage(again.port, plain);
  ASSERT_EQ(res.status, 200) << res.body;
  auto data = json::parse(res.body)["data"];
  std::int64_t requests = 0;
  for (const auto& row : data) {
    if (row["route"] == "GET /v1/usage") requests += row["requests"].get<std::int64_t>();
  }
  EXPECT_GE(requests, 5);
  std::string db = read_file(keep / "p.db") + read_file(keep / "p.db-wal");
  EXPECT_EQ(db.find(plain), std::string::npos);
  EXPECT_EQ(db.find(plain.substr(12)), std::string::npos);
}

}  // namespace
}  // namespace portico::test
