// Issue 14's hostile inputs against the real binary: bodies nested 100,000 deep (a crash before),
// numbers out of range (a 500 before), request smuggling through Transfer-Encoding and trailers,
// `If-None-Match: *` lifting the rate limit, and storage failures answering 503 while /readyz
// says not ready.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <thread>

#include "tests/integration/orders_helpers.hpp"

namespace portico::test {
namespace {

using orders::Store;
using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

void expect_refused_for_depth(const HttpResponse& res, const std::string& what) {
  EXPECT_EQ(res.status, 400) << what << ": " << res.body.substr(0, 300);
  json body = json::parse(res.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << what;
  EXPECT_EQ(body["code"], "invalid_request") << what;
  EXPECT_NE(body["detail"].get<std::string>().find("64 levels"), std::string::npos) << what;
}

TEST(Hardening, BodiesNestedDeeperThanTheLimitAre400NotACrash) {
  Store s;
  s.import(json::array({orders::stocked("prod_a", 1000, {{"icn-1", 5}})}));
  const std::string deep = nested(100000);
  // The crash of issue 14: the idempotency fingerprint serialized this recursively.
  expect_refused_for_depth(s.create_raw(s.shop.key, "k-deep-1", "{\"metadata\":" + deep + "}"),
                           "orders metadata");
  expect_refused_for_depth(s.create_raw(s.shop.key, "k-deep-2", deep), "bare orders body");
  Headers key{{"X-API-Key", s.shop.key}};
  expect_refused_for_depth(http_request(s.gw.port, "PATCH", "/v1/orders/ord_x", key, deep),
                           "orders update");
  expect_refused_for_depth(http_request(s.gw.port, "POST", "/v1/webhooks", key, deep),
                           "webhook endpoint");
  expect_refused_for_depth(s.admin.send("POST", "/partners", deep), "admin partner");
  expect_refused_for_depth(s.admin.send("POST", "/products/import", deep), "catalog import");
  expect_refused_for_depth(s.admin.send("PUT", "/products/prod_a", "{\"attributes\":" + deep + "}"),
                           "product upsert");
  // The gateway is still there, and a body within the limit still works.
  EXPECT_EQ(s.gw.get("/healthz").status, 200);
  EXPECT_TRUE(s.gw.process->running());
  EXPECT_EQ(s.create(s.shop, "k-ok",
                     orders::order_body({{"prod_a", 1}}, {{"metadata", {{"note", "fine"}}}}))
                .status,
            201);
}

TEST(Hardening, TheNestingLimitIsConfigurable) {
  Store s({"--set", "server.max_json_depth=4"});
  auto res = s.admin.send("POST", "/partners", R"({"name":"x","tier":"basic","a":[[[[1]]]]})");
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_NE(res.body.find("4 levels"), std::string::npos) << res.body;
  EXPECT_EQ(s.admin.send("POST", "/partners", R"({"name":"x","tier":"basic"})").status, 201);
}

TEST(Hardening, NumbersOutOfRangeAre400NamingTheField) {
  Store s;
  auto order =
      s.create_raw(s.shop.key, "k-big",
                   R"({"items":[{"product_id":"prod_a","quantity":1e400}],"shipping_address":{}})");
  EXPECT_EQ(order.status, 400) << order.body;
  EXPECT_EQ(orders::fields_of(order), std::set<std::string>{"items[0].quantity"});
  auto partner = s.admin.send("POST", "/partners", R"({"name":"x","tier":-1e999})");
  EXPECT_EQ(partner.status, 400) << partner.body;
  EXPECT_EQ(orders::fields_of(partner), std::set<std::string>{"tier"});
  auto product = s.admin.send("PUT", "/products/prod_b", R"({"price":{"amount":1e400}})");
  EXPECT_EQ(product.status, 400) << product.body;
  EXPECT_EQ(orders::fields_of(product), std::set<std::string>{"price.amount"});
}

// The bytes after a header with a Transfer-Encoding the gateway does not frame used to be
// served as a second request.
TEST(Hardening, UnframeableTransferEncodingsAre400AndClose) {
  Gateway gw;
  for (const std::string coding :
       {"gzip", "identity", "xchunked", "chunked, identity", "\r\n chunked"}) {
    HttpConnection c("127.0.0.1", gw.port);
    c.send_raw("POST /v1/hello HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: " + coding +
               "\r\n\r\nGET /v1/hello HTTP/1.1\r\nHost: gw\r\n\r\n");
    HttpResponse res = c.read_response();
    EXPECT_EQ(res.status, 400) << coding;
    EXPECT_EQ(res.header("Connection"), "close") << coding;
    EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(2))) << coding << ": a second response";
  }
}

TEST(Hardening, HostIsRequiredOnceOnHttp11) {
  Gateway gw;
  for (const std::string head :
       {"GET /healthz HTTP/1.1\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
    HttpConnection c("127.0.0.1", gw.port);
    c.send_raw(head);
    EXPECT_EQ(c.read_response().status, 400) << head;
  }
  HttpConnection old("127.0.0.1", gw.port);
  old.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.read_response().status, 200);
}

// A key sent as a chunked trailer used to authenticate the request.
TEST(Hardening, TrailersNeverAuthenticate) {
  orders::Store s;
  HttpConnection c("127.0.0.1", s.gw.port);
  c.send_raw(
      "POST /v1/orders HTTP/1.1\r\nHost: gw\r\nIdempotency-Key: k-trailer\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-API-Key: " +
      s.shop.key + "\r\n\r\n");
  HttpResponse res = c.read_response();
  EXPECT_EQ(res.status, 401) << res.body;
}

// `If-None-Match: *` answered 304 and refunded the rate limit: 150 requests passed a 100/min
// tier. Only a real strong-ETag match is refunded now.
TEST(Hardening, IfNoneMatchStarDoesNotLiftTheRateLimit) {
  Store s;
  s.import(json::array({orders::stocked("prod_a", 1000, {{"icn-1", 5}})}));
  auto basic = s.admin.call("POST", "/partners", {{"name", "Basic"}, {"tier", "basic"}});
  ASSERT_EQ(basic.status, 201) << basic.body;
  orders::Partner p{json::parse(basic.body)["id"], ""};
  p.key = s.another_key(p);
  int passed = 0, limited = 0;
  for (int i = 0; i < 150; ++i) {
    auto res = s.get(p, "/v1/products/prod_a", {{"If-None-Match", "*"}});
    if (res.status == 429) {
      ++limited;
    } else {
      ++passed;
    }
  }
  EXPECT_EQ(passed, 100);
  EXPECT_EQ(limited, 50);
}

TEST(Hardening, ARealRevalidationStillDoesNotCount) {
  Store s;
  s.import(json::array({orders::stocked("prod_a", 1000, {{"icn-1", 5}})}));
  auto basic = s.admin.call("POST", "/partners", {{"name", "Basic"}, {"tier", "basic"}});
  orders::Partner p{json::parse(basic.body)["id"], ""};
  p.key = s.another_key(p);
  auto first = s.get(p, "/v1/products/prod_a");
  ASSERT_EQ(first.status, 200);
  const std::string etag = first.header("ETag").value_or("");
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(s.get(p, "/v1/products/prod_a", {{"If-None-Match", etag}}).status, 304) << i;
  }
}

// Another process holds the write lock: writes answer 503 storage_unavailable (after the busy
// timeout) and /readyz says not ready, until the lock goes; nothing acknowledged is lost.
TEST(Hardening, ADatabaseLockedByAnotherProcessIs503AndNotReady) {
  Store s({"--set", "storage.busy_timeout=1s"});
  s.import(json::array({orders::stocked("prod_a", 1000, {{"icn-1", 50}})}));
  json before = s.create_ok(s.shop, "k-before", orders::order_body({{"prod_a", 1}}));

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((s.gw.dir / "portico.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  auto refused = s.create(s.shop, "k-during", orders::order_body({{"prod_a", 1}}));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(orders::code_of(refused), "storage_unavailable");
  EXPECT_TRUE(refused.header("Retry-After"));
  auto admin = s.admin.call("POST", "/partners", {{"name", "Late"}, {"tier", "basic"}});
  EXPECT_EQ(admin.status, 503) << admin.body;
  auto not_ready = http_request(s.gw.admin_port, "GET", "/readyz");
  EXPECT_EQ(not_ready.status, 503) << not_ready.body;
  EXPECT_NE(not_ready.body.find("failing"), std::string::npos) << not_ready.body;
  // Reads go on meanwhile.
  EXPECT_EQ(s.get(s.shop, "/v1/orders/" + before["id"].get<std::string>()).status, 200);

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  auto ready = http_request(s.gw.admin_port, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  // The refused key was never stored: the same request now creates the order.
  EXPECT_EQ(s.create(s.shop, "k-during", orders::order_body({{"prod_a", 1}})).status, 201);
  EXPECT_EQ(s.order(before["id"])["status"], "pending");
}

// A full disk, as the gateway sees one: writes past RLIMIT_FSIZE fail (EFBIG).
TEST(Hardening, AFullDiskIs503AndNotReadyUntilWritesWork) {
  Store s;
  s.import(json::array({orders::stocked("prod_a", 1000, {{"icn-1", 50}})}));
  json before = s.create_ok(s.shop, "k-before", orders::order_body({{"prod_a", 1}}));

  const pid_t pid = s.gw.process->pid();
  rlimit full{0, RLIM_INFINITY};
  ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, &full, nullptr), 0);
  auto refused = s.create(s.shop, "k-full", orders::order_body({{"prod_a", 1}}));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(orders::code_of(refused), "storage_unavailable");
  EXPECT_EQ(http_request(s.gw.admin_port, "GET", "/readyz").status, 503);
  EXPECT_TRUE(s.gw.process->running());

  rlimit room{RLIM_INFINITY, RLIM_INFINITY};
  ASSERT_EQ(prlimit(pid, RLIMIT_FSIZE, &room, nullptr), 0);
  auto ready = http_request(s.gw.admin_port, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(s.create(s.shop, "k-full", orders::order_body({{"prod_a", 1}})).status, 201);
  EXPECT_EQ(s.order(before["id"])["status"], "pending");
  EXPECT_EQ(s.inventory("prod_a")["reserved"], 2);
}

}  // namespace
}  // namespace portico::test
