// ratelimit_redis in the real gateway: two gateway processes ("nodes") on one database and one
// Redis (both started by the test on loopback) enforce one partner's tier exactly, with the same
// headers as the local policy, and a node's restart mid-window grants no fresh quota.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/products_helpers.hpp"
#include "tests/support/redis_server.hpp"

namespace portico::test {
namespace {

TEST(RedisRateLimit, TwoNodesShareOneExactLimitThatSurvivesARestart) {
  if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
  RedisServer redis;
  redis.start();
  const std::vector<std::string> with_redis{"--set", "plugins.ratelimit_redis.url=" + redis.url()};
  Gateway a(with_redis);
  std::vector<std::string> second = with_redis;
  for (const std::string& arg : {std::string("--set"),
                                 "storage.path=" + (a.dir / "portico.db").string()}) {
    second.push_back(arg);
  }
  products::Admin admin{a.admin_port};
  const std::string partner = admin.partner("basic");  // 100 requests per minute
  const std::string key = admin.key(partner);
  // Started after the key exists, so no request is spent waiting for b to see it (within 250 ms,
  // node_freshness_test.cpp).
  Gateway b(second);

  int ok = 0, limited = 0;
  for (int i = 0; i < 300; ++i) {
    Gateway& node = i % 2 == 0 ? a : b;
    const HttpResponse res = node.get("/v1/products?limit=1", {{"X-API-Key", key}});
    ASSERT_TRUE(res.header("X-RateLimit-Limit").has_value())
        << "request " << i << ": " << res.status << " " << res.body;
    EXPECT_EQ(res.header("X-RateLimit-Limit"), "100");
    if (res.status == 200) {
      ++ok;
    } else {
      ASSERT_EQ(res.status, 429) << res.body;
      ++limited;
      EXPECT_EQ(res.header("X-RateLimit-Remaining"), "0");
      EXPECT_TRUE(res.header("Retry-After").has_value());
      EXPECT_NE(res.body.find("\"rate_limited\""), std::string::npos) << res.body;
    }
  }
  EXPECT_EQ(ok, 100) << "300 requests over two nodes against 100/min";
  EXPECT_EQ(limited, 200);

  // A restart mid-window: the counts are in Redis, not in the process.
  a.restart();
  const HttpResponse after = a.get("/v1/products?limit=1", {{"X-API-Key", key}});
  EXPECT_EQ(after.status, 429) << after.body;
}

TEST(RedisRateLimit, ClosedFailureModeAnswers503WithRetryAfter) {
  if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
  RedisServer redis;  // never started: nothing listens on its port
  Gateway node({"--set", "plugins.ratelimit_redis.url=" + redis.url()});
  products::Admin admin{node.admin_port};
  const std::string key = admin.key(admin.partner("basic"));
  const HttpResponse res = node.get("/v1/products?limit=1", {{"X-API-Key", key}});
  EXPECT_EQ(res.status, 503) << res.body;
  EXPECT_EQ(res.header("Retry-After"), "1");
  EXPECT_NE(res.body.find("\"rate_limit_unavailable\""), std::string::npos) << res.body;
  // Health probes are never rate limited, so the node still reports itself alive.
  EXPECT_EQ(node.get("/healthz").status, 200);
}

}  // namespace
}  // namespace portico::test
