// GET /v1/usage and GET /admin/v1/partners/{id}/usage: shape, date range, isolation, errors.
#include "core/usage/usage_routes.hpp"

#include <gtest/gtest.h>

#include "core/pipeline/problems.hpp"
#include "core/pipeline/snapshot.hpp"
#include "core/storage/migrations.hpp"
#include "core/storage/sqlite_database.hpp"
#include "core/util/time.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::usage {
namespace {

using namespace std::chrono_literals;

class KeyAuth final : public AuthScheme {
 public:
  AuthResult authenticate(const Request& request) override {
    auto key = request.header("X-API-Key");
    if (!key) return AuthResult::not_mine();
    auto who = std::make_shared<Identity>();
    who->partner_id = std::string(*key);
    who->tier = "basic";
    if (*key != "ptr_noscope") who->scopes = {"usage:read"};
    return AuthResult::authenticated(who);
  }
};

class UsageRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db = storage::open_sqlite({.path = (dir / "portico.db").string()});
    storage::apply_migrations(*db, kUsageMigrationOwner, usage_migrations());
    recorder = std::make_shared<UsageRecorder>(db, [this] { return now; });
    snapshot.stages = pipeline::standard_stages();
    snapshot.auth_schemes.push_back(&auth);
    snapshot.usage = recorder;
    snapshot.router.add(usage_route(recorder), "core");
    add_usage_admin_routes(admin, recorder,
                           [](const std::string& id) { return id.rfind("ptr_", 0) == 0; });
  }

  Response get(std::string target, std::string key) {
    Request r;
    r.method = "GET";
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    if (!key.empty()) r.headers.emplace_back("X-API-Key", key);
    r.client_ip = "192.0.2.1";
    return snapshot.handle(r);
  }

  Response admin_get(const std::string& path, const std::string& query = "") {
    Request r;
    auto match = admin.match("GET", path, r.path_params);
    EXPECT_TRUE(match.entry);
    r.method = "GET";
    r.path = path;
    r.query = query;
    try {
      return match.entry->route.handler(r);
    } catch (const ProblemError& e) {
      return pipeline::problem_response(e.problem(), "req_test");
    }
  }

  test::TempDir dir;
  std::shared_ptr<Database> db;
  std::chrono::system_clock::time_point now = *util::parse_rfc3339("2026-11-26T12:00:00Z");
  std::shared_ptr<UsageRecorder> recorder;
  KeyAuth auth;
  pipeline::Snapshot snapshot;
  pipeline::Router admin;
};

TEST_F(UsageRoutesTest, PartnerSeesItsOwnUsageInTheContractShape) {
  recorder->record("ptr_a", "GET /v1/products", 200, false);
  recorder->record("ptr_a", "GET /v1/products", 429, true);
  recorder->record("ptr_b", "GET /v1/products", 200, false);
  recorder->flush();

  Response res = get("/v1/usage", "ptr_a");
  ASSERT_EQ(res.status, 200) << res.body;
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["partner_id"], "ptr_a");
  EXPECT_EQ(body["from"], "2026-10-28");
  EXPECT_EQ(body["to"], "2026-11-26");
  ASSERT_EQ(body["data"].size(), 1u);
  EXPECT_EQ(body["data"][0], (nlohmann::json{{"date", "2026-11-26"},
                                             {"route", "GET /v1/products"},
                                             {"requests", 2},
                                             {"errors_4xx", 1},
                                             {"errors_5xx", 0},
                                             {"rate_limited", 1}}));
  // The usage request itself was counted by the pipeline, after its response.
  body = nlohmann::json::parse(get("/v1/usage", "ptr_a").body);
  ASSERT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][1]["route"], "GET /v1/usage");
  EXPECT_EQ(body["data"][1]["requests"], 1);
}

TEST_F(UsageRoutesTest, QueryParametersCannotReachAnotherPartner) {
  recorder->record("ptr_b", "GET /v1/orders", 200, false);
  auto body = nlohmann::json::parse(get("/v1/usage?partner_id=ptr_b", "ptr_a").body);
  EXPECT_EQ(body["partner_id"], "ptr_a");
  EXPECT_TRUE(body["data"].empty());
}

TEST_F(UsageRoutesTest, DateRangeIsInclusiveAndDefaultsToTheLast30Days) {
  recorder->record("ptr_a", "GET /v1/orders", 200, false);  // 2026-11-26
  now -= 24h * 30;                                          // 2026-10-27: one day too old
  recorder->record("ptr_a", "GET /v1/orders", 200, false);
  now += 24h * 30;
  auto body = nlohmann::json::parse(get("/v1/usage", "ptr_a").body);
  ASSERT_EQ(body["data"].size(), 1u);
  EXPECT_EQ(body["data"][0]["date"], "2026-11-26");

  body = nlohmann::json::parse(get("/v1/usage?from=2026-10-27&to=2026-10-27", "ptr_a").body);
  ASSERT_EQ(body["data"].size(), 1u);
  EXPECT_EQ(body["data"][0]["date"], "2026-10-27");
  EXPECT_EQ(body["from"], "2026-10-27");

  body = nlohmann::json::parse(get("/v1/usage?to=2026-11-01", "ptr_a").body);
  EXPECT_EQ(body["from"], "2026-10-03");
  ASSERT_EQ(body["data"].size(), 1u);
}

TEST_F(UsageRoutesTest, BadDatesAre400WithTheField) {
  Response res = get("/v1/usage?from=2026-02-30", "ptr_a");
  EXPECT_EQ(res.status, 400);
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["code"], "invalid_request");
  EXPECT_EQ(body["errors"][0]["field"], "from");
  EXPECT_EQ(body["errors"][0]["message"], "must be a date written YYYY-MM-DD");

  body = nlohmann::json::parse(get("/v1/usage?from=2026-11-20&to=2026-11-10", "ptr_a").body);
  EXPECT_EQ(body["errors"][0]["field"], "from");
  EXPECT_EQ(body["errors"][0]["message"], "must not be after to");

  res = get("/v1/usage?from=2024-01-01&to=2026-01-01", "ptr_a");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(nlohmann::json::parse(res.body)["errors"][0]["field"], "to");
  EXPECT_EQ(get("/v1/usage?to=26-11-2026", "ptr_a").status, 400);
}

TEST_F(UsageRoutesTest, NeedsTheUsageReadScope) {
  Response res = get("/v1/usage", "ptr_noscope");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(nlohmann::json::parse(res.body)["code"], "insufficient_scope");
  EXPECT_EQ(get("/v1/usage", "").status, 401);
}

TEST_F(UsageRoutesTest, AdminRouteAnswersTheSameShapeForAnyPartner) {
  recorder->record("ptr_b", "GET /v1/orders", 500, false);
  Response res = admin_get("/admin/v1/partners/ptr_b/usage", "from=2026-11-01");
  ASSERT_EQ(res.status, 200);
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["partner_id"], "ptr_b");
  EXPECT_EQ(body["from"], "2026-11-01");
  EXPECT_EQ(body["to"], "2026-11-26");
  ASSERT_EQ(body["data"].size(), 1u);
  EXPECT_EQ(body["data"][0]["errors_5xx"], 1);

  Response missing = admin_get("/admin/v1/partners/nobody/usage");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing.body)["code"], "not_found");
}

}  // namespace
}  // namespace portico::usage
