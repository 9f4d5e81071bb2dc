// The admin routes as the admin API serves them: status codes, JSON shapes, problems for bad
// JSON and unknown ids, pagination.
#include "tests/unit/partners/partners_fixture.hpp"

namespace portico::partners::testing {
namespace {

std::vector<std::string> keys_of(const json& object) {
  std::vector<std::string> names;
  for (const auto& [key, value] : object.items()) names.push_back(key);
  return names;
}

TEST_F(AdminRoutesTest, CreateShowListAndUpdateAPartner) {
  auto created =
      call("POST", "/admin/v1/partners",
           R"({"name": "Acme Retail", "tier": "basic", "allowed_cidrs": ["203.0.113.9"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto partner = body_of(created);
  EXPECT_EQ(keys_of(partner),
            (std::vector<std::string>{"allowed_cidrs", "created_at", "id", "name",
                                      "rate_limit_override", "status", "tier", "updated_at"}));
  EXPECT_TRUE(partner["id"].get<std::string>().starts_with("ptr_"));
  EXPECT_EQ(partner["name"], "Acme Retail");
  EXPECT_EQ(partner["status"], "active");
  EXPECT_EQ(partner["allowed_cidrs"], json({"203.0.113.9/32"}));
  EXPECT_EQ(partner["created_at"], "2026-11-26T10:00:00Z");

  std::string path = "/admin/v1/partners/" + partner["id"].get<std::string>();
  auto shown = call("GET", path);
  EXPECT_EQ(shown.status, 200);
  EXPECT_EQ(body_of(shown), partner);

  advance(std::chrono::seconds(60));
  auto patched = call("PATCH", path, R"({"tier": "premium", "status": "disabled"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(body_of(patched)["tier"], "premium");
  EXPECT_EQ(body_of(patched)["status"], "disabled");
  EXPECT_EQ(body_of(patched)["updated_at"], "2026-11-26T10:01:00Z");
  EXPECT_EQ(body_of(patched)["created_at"], "2026-11-26T10:00:00Z");

  auto listed = body_of(call("GET", "/admin/v1/partners"));
  EXPECT_EQ(listed["has_more"], false);
  EXPECT_EQ(listed["next_cursor"], nullptr);
  ASSERT_EQ(listed["data"].size(), 1u);
  EXPECT_EQ(listed["data"][0]["id"], partner["id"]);
}

TEST_F(AdminRoutesTest, IssueListRotateAndRevokeKeys) {
  std::string partner = create_partner()["id"];
  std::string keys_path = "/admin/v1/partners/" + partner + "/keys";
  auto issued_response = call("POST", keys_path, "");
  ASSERT_EQ(issued_response.status, 201) << issued_response.body;
  auto issued = body_of(issued_response);
  EXPECT_EQ(keys_of(issued),
            (std::vector<std::string>{"created_at", "env", "expires_at", "id", "key",
                                      "last_used_at", "partner_id", "prefix", "replaced_by",
                                      "revoked_at", "scopes", "status"}));
  std::string key = issued["key"];
  EXPECT_TRUE(key.starts_with("pk_live_"));
  EXPECT_EQ(issued["prefix"], key.substr(0, 12));
  EXPECT_TRUE(issued["id"].get<std::string>().starts_with("key_"));
  EXPECT_EQ(issued["env"], "live");
  EXPECT_EQ(issued["expires_at"], nullptr);

  auto listed = call("GET", keys_path);
  ASSERT_EQ(listed.status, 200);
  auto item = body_of(listed)["data"][0];
  EXPECT_FALSE(item.contains("key")) << "the key is shown once";
  EXPECT_EQ(listed.body.find(key.substr(12)), std::string::npos);
  EXPECT_EQ(item["prefix"], issued["prefix"]);
  EXPECT_EQ(item["status"], "active");

  auto rotated = call("POST", keys_path + "/" + issued["id"].get<std::string>() + "/rotate",
                      R"({"overlap_seconds": 60})");
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  auto successor = body_of(rotated);
  EXPECT_NE(successor["key"], key);
  EXPECT_EQ(successor["previous_key"],
            json({{"id", issued["id"]}, {"expires_at", "2026-11-26T10:01:00Z"}}));

  auto revoked = call("DELETE", keys_path + "/" + successor["id"].get<std::string>());
  EXPECT_EQ(revoked.status, 204);
  EXPECT_TRUE(revoked.body.empty());
  EXPECT_TRUE(revoked.content_type.empty());
  EXPECT_TRUE(keys->find_api_key(successor["key"].get<std::string>())->revoked);
  EXPECT_EQ(call("DELETE", keys_path + "/key_missing").status, 404);
}

TEST_F(AdminRoutesTest, MalformedJsonIsA400Problem) {
  std::string partner = create_partner()["id"];
  for (auto [method, path, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", "/admin/v1/partners", "{\"name\": "},
           {"POST", "/admin/v1/partners", "[1, 2]"},
           {"POST", "/admin/v1/partners", ""},
           {"PATCH", "/admin/v1/partners/" + partner, "nope"},
           {"POST", "/admin/v1/partners/" + partner + "/keys", "{\"scopes\": ["},
       }) {
    auto response = call(method, path, body);
    EXPECT_EQ(response.status, 400) << method << " " << path << " " << body;
    EXPECT_EQ(response.content_type, "application/problem+json");
    EXPECT_EQ(body_of(response)["code"], "invalid_request");
    EXPECT_EQ(body_of(response)["request_id"], "req_test");
  }
}

TEST_F(AdminRoutesTest, ValidationProblemsCarryFieldErrors) {
  auto response = call("POST", "/admin/v1/partners", R"({"name": "Acme", "tier": "gold"})");
  EXPECT_EQ(response.status, 400);
  auto body = body_of(response);
  EXPECT_EQ(body["errors"],
            json::array({{{"field", "tier"},
                          {"message", "unknown tier 'gold'; configured tiers: basic, premium"}}}));
}

TEST_F(AdminRoutesTest, UnknownIdsAnswer404) {
  EXPECT_EQ(call("GET", "/admin/v1/partners/ptr_missing").status, 404);
  EXPECT_EQ(call("PATCH", "/admin/v1/partners/ptr_missing", "{}").status, 404);
  EXPECT_EQ(call("GET", "/admin/v1/partners/ptr_missing/keys").status, 404);
  EXPECT_EQ(call("POST", "/admin/v1/partners/ptr_missing/keys", "{}").status, 404);
  auto response = call("POST", "/admin/v1/partners/ptr_missing/keys/key_x/rotate", "{}");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(body_of(response)["code"], "not_found");
}

TEST_F(AdminRoutesTest, ListsPageNewestFirstWithAnOpaqueCursor) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(create_partner("P" + std::to_string(i))["id"]);
    if (i != 2) advance(std::chrono::seconds(1));  // two partners share a second
  }
  std::vector<std::string> seen;
  std::string target = "/admin/v1/partners?limit=2";
  for (int page = 0; page < 5; ++page) {
    auto body = body_of(call("GET", target));
    for (const auto& p : body["data"]) seen.push_back(p["id"]);
    if (!body["has_more"].get<bool>()) {
      EXPECT_EQ(body["next_cursor"], nullptr);
      break;
    }
    target = "/admin/v1/partners?limit=2&cursor=" + body["next_cursor"].get<std::string>();
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen.front(), ids.back());
  EXPECT_EQ(seen.back(), ids.front());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << "no partner twice";
  EXPECT_EQ(call("GET", "/admin/v1/partners?limit=500").status, 400);
}

TEST_F(AdminRoutesTest, ASecondPartnerWithTheSameNameIs409PartnerExists) {
  std::string acme = create_partner("Acme")["id"];
  for (std::string name : {"Acme", "  aCME\t", "ACME "}) {
    auto response =
        call("POST", "/admin/v1/partners", json({{"name", name}, {"tier", "premium"}}).dump());
    ASSERT_EQ(response.status, 409) << name << ": " << response.body;
    auto problem = body_of(response);
    EXPECT_EQ(problem["code"], "partner_exists");
    EXPECT_EQ(problem["detail"], "A partner named 'Acme' already exists: " + acme +
                                     ". Partner names are unique, ignoring case and surrounding "
                                     "whitespace.");
    EXPECT_EQ(problem["errors"],
              json::array({{{"field", "name"}, {"message", "already used by partner " + acme}}}));
  }
  EXPECT_EQ(body_of(call("GET", "/admin/v1/partners"))["data"].size(), 1u) << "nothing written";
  // Other names, and names that only contain it, are fine.
  EXPECT_EQ(
      call("POST", "/admin/v1/partners", R"({"name": "Acme Retail", "tier": "basic"})").status,
      201);
}

TEST_F(AdminRoutesTest, RenamingAPartnerToAnotherPartnersNameIsRefused) {
  std::string acme = create_partner("Acme")["id"];
  std::string beta = create_partner("Beta")["id"];
  auto renamed =
      call("PATCH", "/admin/v1/partners/" + beta, R"({"name": " acme", "tier": "premium"})");
  ASSERT_EQ(renamed.status, 409) << renamed.body;
  EXPECT_EQ(body_of(renamed)["code"], "partner_exists");
  EXPECT_NE(body_of(renamed)["detail"].get<std::string>().find(acme), std::string::npos);
  auto unchanged = body_of(call("GET", "/admin/v1/partners/" + beta));
  EXPECT_EQ(unchanged["name"], "Beta");
  EXPECT_EQ(unchanged["tier"], "basic") << "nothing of a refused update is applied";
  // A partner may keep its own name, or change only its case.
  auto same = call("PATCH", "/admin/v1/partners/" + acme, R"({"name": "ACME", "tier": "premium"})");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(body_of(same)["name"], "ACME");
  EXPECT_EQ(call("PATCH", "/admin/v1/partners/" + beta, R"({"name": "Beta Ltd"})").status, 200);
}

// Databases written before names were unique may hold duplicates: they stay readable and
// editable, and no new partner can take that name.
TEST_F(AdminRoutesTest, DuplicatesFromBeforeStayEditable) {
  std::string first = create_partner("Acme")["id"];
  db->execute(
      "INSERT INTO partners(id, name, tier, status, allowed_cidrs, rate_limit_override, "
      "created_at, updated_at) VALUES ('ptr_legacy', 'acme', 'basic', 'active', '[]', 0, "
      "'2026-11-26T10:00:01Z', '2026-11-26T10:00:01Z')");
  auto patched =
      call("PATCH", "/admin/v1/partners/ptr_legacy", R"({"name": "acme", "tier": "premium"})");
  EXPECT_EQ(patched.status, 200) << patched.body;
  auto created = call("POST", "/admin/v1/partners", R"({"name": "ACME", "tier": "basic"})");
  EXPECT_EQ(created.status, 409) << created.body;
  EXPECT_NE(body_of(created)["detail"].get<std::string>().find(first), std::string::npos)
      << "names the oldest: " << created.body;
}

}  // namespace
}  // namespace portico::partners::testing
