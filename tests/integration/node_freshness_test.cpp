// Two gateway processes on one database: a key issued, a partner's tier changed, a stock change
// and a key revoked through node a take effect on node b within 1 s (its key index follows the
// database's directory version every 250 ms, its product cache the write generation). The
// measured delays are printed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "tests/integration/products_helpers.hpp"

namespace portico::test {
namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds until `done` holds, polled every 10 ms; -1 after 5 s.
long long ms_until(const std::function<bool()>& done) {
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(5)) {
    if (done()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

TEST(NodeFreshness, ChangesThroughOneNodeReachTheOtherWithinASecond) {
  Gateway a;
  // Polling with a key b does not know yet counts as failed authentications: out of reach here.
  Gateway b({"--set", "storage.path=" + (a.dir / "portico.db").string(), "--set",
             "security.auth_failure_limit=100000"});
  products::Admin admin{a.admin_port};
  const std::string partner = admin.partner("basic");
  const std::string key = admin.key(partner);
  auto status_on_b = [&] {
    return b.get("/v1/products?limit=1", {{"X-API-Key", key}}).status;
  };

  const long long issued = ms_until([&] { return status_on_b() == 200; });
  std::printf("key issued on a, accepted on b after %lld ms\n", issued);

  EXPECT_GE(issued, 0);
  EXPECT_LE(issued, 1000);

  ASSERT_EQ(admin.call("PATCH", "/partners/" + partner, {{"tier", "premium"}}).status, 200);
  const long long tier = ms_until([&] {
    return b.get("/v1/products?limit=1", {{"X-API-Key", key}}).header("X-RateLimit-Limit") ==
           "1000";
  });
  std::printf("tier changed on a, applied on b after %lld ms\n", tier);
  EXPECT_GE(tier, 0);
  EXPECT_LE(tier, 1000);

  // A stock change through a, in b's product reads (its cache follows the database's write
  // generation, which moves with another process's commits within its 100 ms check).
  admin.import(nlohmann::json::array({products::product(1)}));
  auto available_on_b = [&] {
    const auto res = b.get("/v1/products/prod_0001", {{"X-API-Key", key}});
    return res.status == 200 ? nlohmann::json::parse(res.body)["inventory"]["available"].get<int>()
                             : -1;
  };
  ASSERT_GE(ms_until([&] { return available_on_b() == 1 + 7; }), 0);  // b renders and caches it
  ASSERT_EQ(admin.call("PUT", "/products/prod_0001/inventory",
                       {{"warehouses", {{{"id", "icn-1"}, {"available", 40}}}}})
                .status,
            200);
  const long long stock = ms_until([&] { return available_on_b() == 40 + 7; });
  std::printf("stock changed on a, shown by b after %lld ms\n", stock);
  EXPECT_GE(stock, 0);
  EXPECT_LE(stock, 1000);

  const auto keys = admin.send("GET", "/partners/" + partner + "/keys", "");
  const std::string key_id = nlohmann::json::parse(keys.body)["data"][0]["id"];
  const auto revoke = admin.send("DELETE", "/partners/" + partner + "/keys/" + key_id, "");
  ASSERT_LT(revoke.status, 300) << revoke.body;
  const long long revoked = ms_until([&] { return status_on_b() == 401; });
  std::printf("key revoked on a, refused on b after %lld ms\n", revoked);
  EXPECT_GE(revoked, 0);
  EXPECT_LE(revoked, 1000);
}

}  // namespace
}  // namespace portico::test
