#include "core/pipeline/snapshot.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/pipeline/request_id.hpp"

namespace portico::pipeline {
namespace {

class FixedKeyAuth final : public AuthScheme {
 public:
  AuthResult authenticate(const Request& request) override {
    auto key = request.header("X-API-Key");
    if (!key) return AuthResult::not_mine();
    // A result made without the factories: rejected, with no problem to show.
    if (*key == "no-problem") return AuthResult{AuthResult::Outcome::rejected, nullptr, nullptr};
    if (*key != "good") {
      Problem p;
      p.status = 401;
      p.code = "unauthorized";
      p.title = "Unauthorized";
      p.detail = "bad key";
      return AuthResult::rejected(p);
    }
    auto who = std::make_shared<Identity>();
    who->partner_id = "ptr_1";
    who->scopes = {"products:read"};
    return AuthResult::authenticated(who);
  }
};

Route make(std::string method, std::string path, std::string scope, bool authenticated, Handler h) {
  Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.scope = std::move(scope);
  r.authenticated = authenticated;
  r.handler = std::move(h);
  return r;
}

struct Fixture : ::testing::Test {
  FixedKeyAuth auth;
  Snapshot snapshot;
  void SetUp() override {
    snapshot.stages = standard_stages();
    snapshot.auth_schemes.push_back(&auth);
    snapshot.router.add(make("GET", "/open", "", false,
                             [](const Request&) {
                               return Response::json(200, {{"ok", true}});
                             }),
                        "test");
    snapshot.router.add(make("GET", "/v1/things/{id}", "products:read", true,
                             [](const Request& r) {
                               return Response::json(200, {{"id", r.param("id")},
                                                           {"partner", r.identity->partner_id}});
                             }),
                        "test");
    snapshot.router.add(make("POST", "/v1/things", "orders:write", true,
                             [](const Request&) { return Response::json(201, {}); }),
                        "test");
    snapshot.router.add(make("GET", "/boom", "", false,
                             [](const Request&) -> Response { throw std::runtime_error("kaput"); }),
                        "test");
  }
  Response call(std::string method, std::string path, HeaderList headers = {}) {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.headers = std::move(headers);
    return snapshot.handle(r);
  }
};

TEST_F(Fixture, UnknownRouteIsA404Problem) {
  Response res = call("GET", "/v2/nothing", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.content_type, "application/problem+json");
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["type"], "urn:portico:problem:not_found");
  EXPECT_EQ(body["title"], "Not found");
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["code"], "not_found");
  EXPECT_EQ(body["detail"], "No route for GET /v2/nothing.");
  EXPECT_EQ(body["request_id"], "abc-123");
  EXPECT_EQ(res.header("X-Request-Id"), "abc-123");
}

TEST_F(Fixture, WrongMethodIsA405WithAllow) {
  Response res = call("DELETE", "/v1/things");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.header("Allow"), "POST");
  EXPECT_EQ(nlohmann::json::parse(res.body)["code"], "method_not_allowed");
}

TEST_F(Fixture, MissingCredentialsAre401WithChallenge) {
  Response res = call("GET", "/v1/things/t1");
  EXPECT_EQ(res.status, 401);
  EXPECT_TRUE(res.header("WWW-Authenticate").has_value());
}

TEST_F(Fixture, RejectedCredentialsKeepTheSchemeProblemAndGetAChallenge) {
  Response res = call("GET", "/v1/things/t1", {{"X-API-Key", "bad"}});
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(nlohmann::json::parse(res.body)["detail"], "bad key");
  EXPECT_TRUE(res.header("WWW-Authenticate").has_value());
}

TEST_F(Fixture, ARejectionWithoutAProblemIsTheGatewaysOwn401) {
  Response res = call("GET", "/v1/things/t1", {{"X-API-Key", "no-problem"}});
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(nlohmann::json::parse(res.body)["detail"], "The credentials were refused.");
  EXPECT_TRUE(res.header("WWW-Authenticate").has_value());
}

TEST_F(Fixture, AuthenticatedRequestReachesHandlerWithIdentityAndParams) {
  Response res = call("GET", "/v1/things/t1", {{"X-API-Key", "good"}});
  EXPECT_EQ(res.status, 200);
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["id"], "t1");
  EXPECT_EQ(body["partner"], "ptr_1");
}

TEST_F(Fixture, MissingScopeIs403) {
  Response res = call("POST", "/v1/things", {{"X-API-Key", "good"}});
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(nlohmann::json::parse(res.body)["code"], "insufficient_scope");
}

TEST_F(Fixture, HandlerExceptionBecomesA500WithoutLeakingTheMessage) {
  std::string seen;
  snapshot.on_internal_error = [&](const Request&, std::string_view what) { seen = what; };
  Response res = call("GET", "/boom");
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body.find("kaput"), std::string::npos);
  EXPECT_EQ(seen, "kaput");
}

TEST_F(Fixture, InsaneRequestIdIsReplaced) {
  Response res = call("GET", "/open", {{"X-Request-Id", "bad id with spaces\r\n"}});
  ASSERT_TRUE(res.header("X-Request-Id").has_value());
  EXPECT_NE(*res.header("X-Request-Id"), "bad id with spaces\r\n");
  EXPECT_TRUE(is_sane_request_id(*res.header("X-Request-Id")));
}

TEST(RequestId, GeneratedIdsAreUniqueAndSane) {
  std::string a = new_request_id(), b = new_request_id();
  EXPECT_NE(a, b);
  EXPECT_TRUE(is_sane_request_id(a));
  EXPECT_EQ(a.rfind("req_", 0), 0u);
  EXPECT_FALSE(is_sane_request_id(std::string(129, 'a')));
  EXPECT_FALSE(is_sane_request_id(""));
  // Written again into the same string (a connection's next request): a new id each time, all of
  // the process's form; one from a caller, even of the same length, is replaced whole.
  std::string id;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    assign_request_id(id, std::nullopt);
    EXPECT_EQ(id.size(), a.size());
    EXPECT_EQ(id.substr(0, 16), a.substr(0, 16));
    EXPECT_TRUE(is_sane_request_id(id));
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
  const std::string callers(a.size(), 'z');
  assign_request_id(id, callers);
  EXPECT_EQ(id, callers);
  assign_request_id(id, std::nullopt);
  EXPECT_EQ(id.substr(0, 16), a.substr(0, 16));
  EXPECT_TRUE(seen.insert(id).second);
}

// Each thread numbers its ids from blocks it takes off the process's counter: ids made on four
// threads at once, each past several blocks, are all different.
TEST(RequestId, UniqueAcrossThreadsTakingBlocks) {
  constexpr int kThreads = 4, kEach = 5000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kEach; ++i) made[t].push_back(new_request_id());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> seen;
  for (const auto& ids : made) {
    for (const auto& id : ids) {
      EXPECT_TRUE(is_sane_request_id(id));
      ASSERT_TRUE(seen.insert(id).second) << id;
    }
  }
  EXPECT_EQ(seen.size(), std::size_t{kThreads * kEach});
}

}  // namespace
}  // namespace portico::pipeline
