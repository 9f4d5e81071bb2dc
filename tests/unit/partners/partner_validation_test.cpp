// Every refusal of the partner and key operations: 400 invalid_request naming each field, 404 for
// ids that do not exist or belong to another partner, 409 for keys that cannot be rotated.
#include "tests/unit/partners/partners_fixture.hpp"

namespace portico::partners::testing {
namespace {

TEST_F(PartnersTest, CreatingAPartnerNeedsANameAndAConfiguredTier) {
  auto p = problem_of([&] { service->create_partner(json::object()); });
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.code, "invalid_request");
  EXPECT_EQ(fields_of(p), (std::vector<std::string>{"name", "tier"}));
  EXPECT_EQ(message_for(p, "name"), "is required");
  EXPECT_EQ(p.detail, "2 fields are not valid. Nothing was changed.");  // sdk::invalid_fields

  p = problem_of([&] { service->create_partner({{"name", "  "}, {"tier", "premim"}}); });
  EXPECT_EQ(message_for(p, "name"), "must be a non-empty string");
  EXPECT_EQ(message_for(p, "tier"),
            "unknown tier 'premim' (did you mean 'premium'?); configured tiers: basic, premium");

  p = problem_of([&] { service->create_partner({{"name", std::string(201, 'n')}, {"tier", 3}}); });
  EXPECT_EQ(message_for(p, "name"), "must be at most 200 characters");
  EXPECT_EQ(message_for(p, "tier"), "must be a string");
}

// Found by the json_bodies fuzz target: a name with CR/LF or escape sequences reached tables, logs
// and the CLI's output.
TEST_F(PartnersTest, NamesRefuseControlCharacters) {
  for (const char* name : {"Acme\r\nX-Injected: 1", "Acme\x1b[31m", "tab\there"}) {
    auto p = problem_of([&] { service->create_partner({{"name", name}, {"tier", "basic"}}); });
    EXPECT_EQ(message_for(p, "name"), "must not contain control characters") << name;
  }
  EXPECT_TRUE(db->query("SELECT * FROM partners").empty());
}

// Admin list cursors are the SDK's (MAC'd, bound to their list): a byte outside base64, a
// changed byte, or another list's cursor is a 400 on "cursor".
TEST_F(PartnersTest, CursorsAreTamperProofAndBoundToTheirList) {
  const AdminCursors cursors(std::string(32, 'k'));
  const std::string cursor = cursors.encode({"2026-01-01T00:00:00.000Z", "ptr_1"}, "partners");
  EXPECT_EQ(cursors.decode(cursor, "partners").id, "ptr_1");
  EXPECT_EQ(cursors.decode(cursor, "partners").created_at, "2026-01-01T00:00:00.000Z");
  std::string high = cursor;
  high.back() = static_cast<char>(0xff);
  EXPECT_EQ(fields_of(problem_of([&] { cursors.decode(high, "partners"); })),
            (std::vector<std::string>{"cursor"}));
  std::string changed = cursor;
  changed[4] = changed[4] == 'A' ? 'B' : 'A';
  EXPECT_EQ(fields_of(problem_of([&] { cursors.decode(changed, "partners"); })),
            (std::vector<std::string>{"cursor"}));
  auto p = problem_of([&] { cursors.decode(cursors.encode({"t", "key_1"}, "keys:ptr_1"), "keys:ptr_2"); });
  EXPECT_EQ(message_for(p, "cursor"),
            "was issued for other filters; keep the partner the same while paging");
}

TEST_F(PartnersTest, PartnerFieldsAreCheckedOneByOne) {
  auto p = problem_of([&] {
    service->create_partner({{"name", "Acme"},
                             {"tier", "basic"},
                             {"status", "paused"},
                             {"allowed_cidrs", {"10.0.0.0/8", "10.0.0.0/33", 7, "example.com"}},
                             {"rate_limit_override", -1},
                             {"tierr", "basic"}});
  });
  EXPECT_EQ(fields_of(p),
            (std::vector<std::string>{"tierr", "status", "allowed_cidrs[1]", "allowed_cidrs[2]",
                                      "allowed_cidrs[3]", "rate_limit_override"}));
  EXPECT_EQ(message_for(p, "tierr"), "is not a known field; did you mean 'tier'?");
  EXPECT_EQ(message_for(p, "status"), "must be \"active\" or \"disabled\"");
  EXPECT_EQ(message_for(p, "allowed_cidrs[1]"),
            "not an IPv4/IPv6 address or CIDR block (e.g. 203.0.113.0/24)");
  EXPECT_EQ(message_for(p, "rate_limit_override"),
            "must be an integer from 0 (the tier's limit) to 1000000000");

  p = problem_of([&] {
    service->create_partner({{"name", "Acme"}, {"tier", "basic"}, {"allowed_cidrs", "10.0.0.0/8"}});
  });
  EXPECT_EQ(message_for(p, "allowed_cidrs"),
            "must be an array of IPv4/IPv6 addresses or CIDR blocks");
  EXPECT_TRUE(db->query("SELECT * FROM partners").empty()) << "nothing was written";
}

TEST_F(PartnersTest, UpdatesAreCheckedTheSameWayAndChangeNothingWhenRefused) {
  auto partner = create_partner();
  auto p = problem_of([&] {
    service->update_partner(partner["id"], {{"tier", "gold"}, {"status", "active"}});
  });
  EXPECT_EQ(fields_of(p), (std::vector<std::string>{"tier"}));
  EXPECT_EQ(service->get_partner(partner["id"])["tier"], "basic");
  p = problem_of([&] { service->update_partner(partner["id"], {{"id", "ptr_other"}}); });
  EXPECT_EQ(message_for(p, "id"), "is not a known field");
}

TEST_F(PartnersTest, UnknownPartnersAreNotFound) {
  for (auto& call : std::vector<std::function<void()>>{
           [&] { service->get_partner("ptr_nope"); },
           [&] {
             service->update_partner("ptr_nope", {{"tier", "basic"}});
           },
           [&] { service->disable_partner("ptr_nope"); },
           [&] { service->issue_key("ptr_nope", json::object()); },
           [&] {
             service->issue_key("ptr_nope", {{"scopes", {"bogus"}}});
           },
           [&] { service->list_keys("ptr_nope", {}); },
       }) {
    auto p = problem_of(call);
    EXPECT_EQ(p.status, 404);
    EXPECT_EQ(p.code, "not_found");
    EXPECT_EQ(p.detail, "No partner ptr_nope.");
  }
}

TEST_F(PartnersTest, AnotherPartnersKeyIsNotFoundExactlyLikeAMissingOne) {
  auto mine = create_partner("Mine");
  auto theirs = create_partner("Theirs");
  auto their_key = issue_key(theirs["id"]);
  std::string id = their_key["id"];
  for (auto& call : std::vector<std::function<void()>>{
           [&] { service->revoke_key(mine["id"], id); },
           [&] { service->rotate_key(mine["id"], id, json::object()); },
       }) {
    auto p = problem_of(call);
    EXPECT_EQ(p.status, 404);
    EXPECT_EQ(p.detail, "No API key " + id + " for partner " + mine["id"].get<std::string>() + ".");
  }
  auto missing = problem_of([&] { service->revoke_key(mine["id"], "key_missing"); });
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(keys->find_api_key(their_key["key"].get<std::string>())) << "their key still works";
}

TEST_F(PartnersTest, KeyFieldsAreChecked) {
  auto partner = create_partner();
  auto p = problem_of([&] {
    issue_key(partner["id"], {{"scopes", {"orders:read", "orders:wirte", 5}},
                              {"expires_at", "tomorrow"},
                              {"env", "prod"},
                              {"scope", "x"}});
  });
  EXPECT_EQ(fields_of(p),
            (std::vector<std::string>{"scope", "scopes[1]", "scopes[2]", "expires_at", "env"}));
  EXPECT_EQ(message_for(p, "scope"), "is not a known field; did you mean 'scopes'?");
  EXPECT_EQ(message_for(p, "scopes[1]"),
            "unknown scope 'orders:wirte' (did you mean 'orders:write'?)");
  EXPECT_EQ(message_for(p, "scopes[2]"), "must be a string");
  EXPECT_EQ(message_for(p, "expires_at"),
            "must be an RFC 3339 timestamp, e.g. 2027-01-31T00:00:00Z");
  EXPECT_EQ(message_for(p, "env"), "must be \"live\" or \"test\"");

  p = problem_of([&] { issue_key(partner["id"], {{"scopes", json::array()}}); });
  EXPECT_EQ(message_for(p, "scopes"), "must name at least one scope (leave it out for all scopes)");
  p = problem_of([&] { issue_key(partner["id"], {{"scopes", "orders:read"}}); });
  EXPECT_EQ(message_for(p, "scopes"), "must be an array of scopes");
  EXPECT_TRUE(db->query("SELECT * FROM api_keys").empty()) << "nothing was written";
}

TEST_F(PartnersTest, APastExpiryMakesAKeyThatIsAlreadyExpired) {
  auto partner = create_partner();
  auto issued = issue_key(partner["id"], {{"expires_at", "2020-01-01T00:00:00Z"}});
  EXPECT_EQ(issued["status"], "expired");
  auto record = keys->find_api_key(issued["key"].get<std::string>());
  ASSERT_TRUE(record && record->expires_at);
  EXPECT_LE(*record->expires_at, now);
}

TEST_F(PartnersTest, NoScopesMeansAllScopesAndScopesAreCanonical) {
  auto partner = create_partner();
  EXPECT_EQ(issue_key(partner["id"])["scopes"],
            json({"products:read", "orders:read", "orders:write", "webhooks:manage", "events:read",
                  "usage:read"}));
  EXPECT_EQ(
      issue_key(partner["id"], {{"scopes", {"usage:read", "orders:read", "usage:read"}}})["scopes"],
      json({"orders:read", "usage:read"}));
}

TEST_F(PartnersTest, RotationOverlapIsBounded) {
  auto partner = create_partner();
  auto key = issue_key(partner["id"]);
  for (json bad : {json(-1), json(604801), json("1h"), json(1.5)}) {
    auto p = problem_of([&] {
      service->rotate_key(partner["id"], key["id"], {{"overlap_seconds", bad}});
    });
    EXPECT_EQ(message_for(p, "overlap_seconds"), "must be an integer from 0 to 604800 (7 days)")
        << bad;
  }
  auto p = problem_of([&] {
    service->rotate_key(partner["id"], key["id"], {{"overlap_second", 5}});
  });
  EXPECT_EQ(message_for(p, "overlap_second"),
            "is not a known field; did you mean 'overlap_seconds'?");
  EXPECT_EQ(service->rotate_key(partner["id"], key["id"],
                                {{"overlap_seconds", 604800}})["previous_key"]["expires_at"],
            "2026-12-03T10:00:00Z");
}

TEST_F(PartnersTest, RevokedRotatedAndExpiredKeysCannotBeRotated) {
  auto partner = create_partner();
  auto revoked = issue_key(partner["id"]);
  service->revoke_key(partner["id"], revoked["id"]);
  auto p = problem_of([&] { service->rotate_key(partner["id"], revoked["id"], json::object()); });
  EXPECT_EQ(p.status, 409);
  EXPECT_EQ(p.code, "key_revoked");

  auto rotated = issue_key(partner["id"]);
  auto successor = service->rotate_key(partner["id"], rotated["id"], json::object());
  p = problem_of([&] { service->rotate_key(partner["id"], rotated["id"], json::object()); });
  EXPECT_EQ(p.code, "key_already_rotated");
  EXPECT_NE(p.detail.find(successor["id"].get<std::string>()), std::string::npos) << p.detail;

  auto expiring = issue_key(partner["id"], {{"expires_at", "2026-11-26T10:01:00Z"}});
  advance(std::chrono::minutes(2));
  p = problem_of([&] { service->rotate_key(partner["id"], expiring["id"], json::object()); });
  EXPECT_EQ(p.code, "key_expired");
}

TEST_F(PartnersTest, ListCursorsAndLimitsAreChecked) {
  auto query = [](std::string q) {
    Request request;
    request.query = std::move(q);
    return request;
  };
  auto p = problem_of([&] { page_request(query("limit=0")); });
  EXPECT_EQ(message_for(p, "limit"), "must be a whole number from 1 to 100");
  for (std::string bad : {"101", "ten", "", "5x", "-3"}) {
    EXPECT_EQ(problem_of([&] { page_request(query("limit=" + bad)); }).status, 400) << bad;
  }
  EXPECT_EQ(message_for(problem_of([&] { page_request(query("limt=5")); }), "limt"),
            "is not a known query parameter; did you mean 'limit'?");
  EXPECT_EQ(page_request(query("limit=100")).limit, 100);
  EXPECT_EQ(page_request(query("")).limit, 20);
  EXPECT_EQ(page_request(query("cursor=abc")).cursor, "abc");
  p = problem_of([&] { service->list_partners({20, "not-a-cursor!"}); });
  EXPECT_EQ(message_for(p, "cursor"), "is not a cursor this API issued; use next_cursor as given");
}

}  // namespace
}  // namespace portico::partners::testing
