// The webhook endpoint routes through the real binary: CRUD with the secret shown only at
// creation, rotation (the old secret kept 24 h as previous_secret), validation listing every
// problem, the SSRF guard at creation (and its config switch) and the endpoint limit.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "tests/integration/webhooks_helpers.hpp"

namespace portico::test::webhooks_routes {
namespace {

TEST(WebhookEndpoints, CreateShowsTheSecretOnceAndReadsNeverDo) {
  Hooks h;
  auto res = h.call(h.a, "POST", "/v1/webhooks",
                    json{{"url", kPublicUrl},
                         {"events", {"order.*", "inventory.changed"}},
                         {"description", "Order sync"}});
  ASSERT_EQ(res.status, 201) << res.body;
  EXPECT_EQ(res.header("Content-Type"), "application/json");
  EXPECT_EQ(res.header("Cache-Control"), "no-store");
  json created = json::parse(res.body);
  const std::string id = created["id"];
  EXPECT_TRUE(id.starts_with("we_")) << id;
  EXPECT_EQ(id.size(), 3u + 24u);
  EXPECT_EQ(res.header("Location"), "/v1/webhooks/" + id);
  EXPECT_EQ(created["url"], kPublicUrl);
  EXPECT_EQ(created["events"], (json{"order.*", "inventory.changed"}));
  EXPECT_EQ(created["description"], "Order sync");
  EXPECT_EQ(created["status"], "enabled");
  EXPECT_TRUE(created["disabled_reason"].is_null());
  EXPECT_FALSE(created.contains("public_key"));
  EXPECT_EQ(created["created_at"].get<std::string>().size(), 24u);  // fixed width, ms
  EXPECT_EQ(created["updated_at"], created["created_at"]);
  const std::string secret = created["secret"];
  EXPECT_TRUE(secret.starts_with("whsec_")) << secret;
  EXPECT_GE(secret.size(), 6u + 32u);  // base64 of 32 bytes
  // Stored sealed under the data key, never as given (webhooks_secrets_test.cpp: the whole file).
  const std::string stored =
      h.db_value("SELECT secret FROM webhook_endpoints WHERE id = '" + id + "'");
  EXPECT_TRUE(stored.starts_with("sealed:v1:")) << stored;
  EXPECT_EQ(stored.find(secret.substr(6)), std::string::npos) << stored;

  // Reads show the endpoint as created, without the secret.
  json shown = h.get_json(h.a, "/v1/webhooks/" + id);
  json expected = created;
  expected.erase("secret");
  EXPECT_EQ(shown, expected);
  json list = h.get_json(h.a, "/v1/webhooks");
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0], expected);
  EXPECT_FALSE(list["has_more"].get<bool>());
  EXPECT_TRUE(list["next_cursor"].is_null());
  for (const auto& body :
       {h.call(h.a, "GET", "/v1/webhooks/" + id).body, h.call(h.a, "GET", "/v1/webhooks").body}) {
    EXPECT_EQ(body.find("whsec_"), std::string::npos) << body;
  }

  // Ed25519 on request: the public key is published (also on reads), the signing key never.
  json signed_v1a = h.create(h.a, json{{"url", kPublicUrl}, {"events", {"*"}}, {"ed25519", true}});
  const std::string public_key = signed_v1a.value("public_key", "");
  EXPECT_TRUE(public_key.starts_with("whpk_")) << signed_v1a.dump();
  json read_v1a = h.get_json(h.a, "/v1/webhooks/" + signed_v1a["id"].get<std::string>());
  EXPECT_EQ(read_v1a["public_key"], public_key);
  EXPECT_EQ(read_v1a.dump().find("whsk_"), std::string::npos);
  EXPECT_TRUE(h.db_value("SELECT signing_key FROM webhook_endpoints WHERE id = '" +
                         signed_v1a["id"].get<std::string>() + "'")
                  .starts_with("sealed:v1:"));
  EXPECT_NE(signed_v1a["secret"], created["secret"]);
}

TEST(WebhookEndpoints, ValidationListsEveryProblem) {
  Hooks h;
  auto res = h.call(h.a, "POST", "/v1/webhooks",
                    json{{"url", "ftp://files.example.com/in"},
                         {"events", {"order.create", "refund.*"}},
                         {"description", std::string(501, 'd')},
                         {"ed25519", "yes"},
                         {"secret", "whsec_mine"}});
  ASSERT_EQ(res.status, 400) << res.body;
  EXPECT_EQ(res.header("Content-Type"), "application/problem+json");
  EXPECT_EQ(code_of(res), "invalid_request");
  EXPECT_EQ(fields_of(res), (std::set<std::string>{"url", "events[0]", "events[1]", "description",
                                                   "ed25519", "secret"}));
  EXPECT_NE(res.body.find("did you mean 'order.created'"), std::string::npos) << res.body;

  res = h.call(h.a, "POST", "/v1/webhooks", json{{"url", kPublicUrl}, {"events", json::array()}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(fields_of(res), (std::set<std::string>{"events"}));

  res = h.call(h.a, "POST", "/v1/webhooks", json::object());
  EXPECT_EQ(fields_of(res), (std::set<std::string>{"url", "events"}));

  res = h.call(h.a.key, "POST", "/v1/webhooks", json("not an object"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(fields_of(res), (std::set<std::string>{"body"}));

  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_endpoints"), "0");
}

TEST(WebhookEndpoints, PatchListPagesAndDelete) {
  Hooks h;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(h.add(h.a)["id"]);

  // Newest first, page by page.
  std::vector<std::string> walked;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    json body =
        h.get_json(h.a, "/v1/webhooks?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (auto& id : ids_of(body)) walked.push_back(id);
    if (!body["has_more"].get<bool>()) break;
    cursor = body["next_cursor"];
  }
  // Newest first (endpoints made in the same millisecond come in id order), each exactly once.
  json whole = h.get_json(h.a, "/v1/webhooks?limit=100");
  EXPECT_EQ(walked, ids_of(whole));
  EXPECT_EQ(std::set<std::string>(walked.begin(), walked.end()),
            std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(walked.size(), ids.size());
  for (std::size_t i = 1; i < whole["data"].size(); ++i) {
    EXPECT_GE(whole["data"][i - 1]["created_at"].get<std::string>(),
              whole["data"][i]["created_at"].get<std::string>());
  }
  auto bad = h.call(h.a, "GET", "/v1/webhooks?limit=0&cursor=garbage&status=enabled");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(fields_of(bad), (std::set<std::string>{"limit", "status"}));
  EXPECT_EQ(fields_of(h.call(h.a, "GET", "/v1/webhooks?cursor=garbage")),
            (std::set<std::string>{"cursor"}));

  // PATCH: description, filters, URL; then disable and enable.
  const std::string id = ids[0];
  auto res = h.call(h.a, "PATCH", "/v1/webhooks/" + id,
                    json{{"description", "renamed"},
                         {"events", {"order.shipped", "order.delivered"}},
                         {"url", "https://93.184.215.14/v2/hooks"}});
  ASSERT_EQ(res.status, 200) << res.body;
  json patched = json::parse(res.body);
  EXPECT_EQ(patched["description"], "renamed");
  EXPECT_EQ(patched["events"], (json{"order.shipped", "order.delivered"}));
  EXPECT_EQ(patched["url"], "https://93.184.215.14/v2/hooks");
  EXPECT_FALSE(patched.contains("secret"));
  EXPECT_GE(patched["updated_at"].get<std::string>(), patched["created_at"].get<std::string>());
  EXPECT_EQ(h.get_json(h.a, "/v1/webhooks/" + id), patched);

  // The gateway disabled it (as webhook_delivery does after a 410); re-enabling clears that.
  h.db_write(
      "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = 'the endpoint "
      "answered 410 Gone', failing_since = '2026-01-01T00:00:00.000Z' WHERE id = '" +
      id + "'");
  json disabled = h.get_json(h.a, "/v1/webhooks/" + id);
  EXPECT_EQ(disabled["status"], "disabled");
  EXPECT_EQ(disabled["disabled_reason"], "the endpoint answered 410 Gone");
  res = h.call(h.a, "PATCH", "/v1/webhooks/" + id, json{{"status", "enabled"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body)["status"], "enabled");
  EXPECT_TRUE(json::parse(res.body)["disabled_reason"].is_null());
  EXPECT_EQ(h.db("SELECT failing_since IS NULL FROM webhook_endpoints WHERE id = '" + id + "'"),
            (std::vector<std::vector<std::string>>{{"1"}}));
  res = h.call(h.a, "PATCH", "/v1/webhooks/" + id, json{{"status", "disabled"}});
  EXPECT_EQ(json::parse(res.body)["status"], "disabled");
  EXPECT_TRUE(json::parse(res.body)["disabled_reason"].is_null());  // the partner did it
  // A disabled endpoint gets no test event.
  res = h.call(h.a, "POST", "/v1/webhooks/" + id + "/test");
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(code_of(res), "endpoint_disabled");

  // Bad patches change nothing.
  res = h.call(h.a, "PATCH", "/v1/webhooks/" + id,
               json{{"status", "paused"}, {"events", {"nope"}}, {"url", "http://10.0.0.1/"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(fields_of(res), (std::set<std::string>{"status", "events[0]", "url"}));
  EXPECT_EQ(h.call(h.a, "PATCH", "/v1/webhooks/" + id, json::object()).status, 400);
  EXPECT_EQ(h.get_json(h.a, "/v1/webhooks/" + id)["description"], "renamed");

  // PATCH can turn v1a signing on (publishing a key) and off again.
  res = h.call(h.a, "PATCH", "/v1/webhooks/" + id, json{{"ed25519", true}});
  EXPECT_TRUE(json::parse(res.body).value("public_key", "").starts_with("whpk_")) << res.body;
  res = h.call(h.a, "PATCH", "/v1/webhooks/" + id, json{{"ed25519", false}});
  EXPECT_FALSE(json::parse(res.body).contains("public_key")) << res.body;

  // DELETE: 204, then gone everywhere.
  res = h.call(h.a, "DELETE", "/v1/webhooks/" + id);
  EXPECT_EQ(res.status, 204);
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(h.call(h.a, "GET", "/v1/webhooks/" + id).status, 404);
  EXPECT_EQ(h.call(h.a, "DELETE", "/v1/webhooks/" + id).status, 404);
  EXPECT_EQ(h.get_json(h.a, "/v1/webhooks?limit=100")["data"].size(), 4u);
}

TEST(WebhookEndpoints, AtMostTheConfiguredNumberPerPartner) {
  Hooks h({"--set", "plugins.routes_webhooks.max_endpoints_per_partner=2"});
  h.add(h.a);
  const std::string second = h.add(h.a)["id"];
  auto res = h.call(h.a, "POST", "/v1/webhooks", json{{"url", kPublicUrl}, {"events", {"*"}}});
  EXPECT_EQ(res.status, 409) << res.body;
  EXPECT_EQ(code_of(res), "too_many_endpoints");
  h.add(h.b);  // per partner
  EXPECT_EQ(h.call(h.a, "DELETE", "/v1/webhooks/" + second).status, 204);
  h.add(h.a);
}

TEST(WebhookEndpoints, RotationKeepsTheOldSecretForADay) {
  Hooks h;
  json created = h.add(h.a);
  const std::string id = created["id"];
  const std::string first = created["secret"];
  const std::string first_stored =
      h.db_value("SELECT secret FROM webhook_endpoints WHERE id = '" + id + "'");

  auto before = std::chrono::system_clock::now();
  auto res = h.call(h.a, "POST", "/v1/webhooks/" + id + "/rotate-secret");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("Cache-Control"), "no-store");
  json rotated = json::parse(res.body);
  const std::string second = rotated["secret"];
  EXPECT_TRUE(second.starts_with("whsec_"));
  EXPECT_NE(second, first);
  auto expires = time_of(rotated["previous_secret_expires_at"]);
  EXPECT_GE(expires, before + std::chrono::hours(24) - std::chrono::seconds(5));
  EXPECT_LE(expires,
            std::chrono::system_clock::now() + std::chrono::hours(24) + std::chrono::seconds(5));
  // The stored (sealed) current secret becomes the previous one; the new one is sealed too.
  auto rows = h.db(
      "SELECT secret, previous_secret, previous_secret_expires_at FROM "
      "webhook_endpoints WHERE id = '" +
      id + "'");
  ASSERT_EQ(rows.size(), 1u);
  const std::string second_stored = rows[0][0];
  EXPECT_TRUE(second_stored.starts_with("sealed:v1:")) << second_stored;
  EXPECT_EQ(second_stored.find(second.substr(6)), std::string::npos);
  EXPECT_EQ(rows[0][1], first_stored);
  EXPECT_EQ(rows[0][2], rotated["previous_secret_expires_at"]);
  // Reads still show no secret.
  EXPECT_EQ(h.call(h.a, "GET", "/v1/webhooks/" + id).body.find("whsec_"), std::string::npos);

  // Rotating again: only the newest two sign; the first is dropped at once.
  json again = json::parse(h.call(h.a, "POST", "/v1/webhooks/" + id + "/rotate-secret").body);
  rows = h.db("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = '" + id + "'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0][0], second_stored);
  EXPECT_EQ(rows[0][0].find(again["secret"].get<std::string>().substr(6)), std::string::npos);
  EXPECT_EQ(rows[0][1], second_stored);
}

// --- the SSRF guard
// -------------------------------------------------------------------------------

TEST(WebhookEndpoints, PrivateAndNonHttpTargetsAreRefused) {
  Hooks h;
  for (const char* url :
       {"http://127.0.0.1/", "http://localhost/", "http://10.0.0.1/", "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/", "ftp://files.example.com/in",
        "http://127.1/", "http://user:pw@93.184.215.14/"}) {
    auto res = h.call(h.a, "POST", "/v1/webhooks", json{{"url", url}, {"events", {"*"}}});
    EXPECT_EQ(res.status, 400) << url << ": " << res.body;
    EXPECT_EQ(code_of(res), "invalid_request") << url;
    EXPECT_EQ(fields_of(res), (std::set<std::string>{"url"})) << url << ": " << res.body;
  }
  auto res = h.call(h.a, "POST", "/v1/webhooks",
                    json{{"url", "http://localhost:8080/hooks"}, {"events", {"*"}}});
  EXPECT_EQ(first_error_message(res),
            "must be a public https/http address: the host does not resolve to a public address");
  EXPECT_EQ(first_error_message(h.call(h.a, "POST", "/v1/webhooks",
                                       json{{"url", "http://10.0.0.1/"}, {"events", {"*"}}})),
            "must be a public https/http address: the host is not a public address");
  EXPECT_NE(first_error_message(h.call(h.a, "POST", "/v1/webhooks",
                                       json{{"url", "ftp://x.example/"}, {"events", {"*"}}}))
                .find("http"),
            std::string::npos);
  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_endpoints"), "0");

  // Nor can PATCH point an endpoint there.
  const std::string id = h.add(h.a)["id"];
  res = h.call(h.a, "PATCH", "/v1/webhooks/" + id, json{{"url", "http://127.0.0.1:9/"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(fields_of(res), (std::set<std::string>{"url"}));
}

TEST(WebhookEndpoints, PrivateTargetsWhenTheOperatorAllowsThem) {
  Hooks h({"--set", "plugins.routes_webhooks.allow_private_targets=true"});
  for (const char* url : {"http://127.0.0.1:9/hooks", "http://localhost:9/", "http://10.0.0.1/",
                          "http://[::1]:8080/in"}) {
    auto res = h.call(h.a, "POST", "/v1/webhooks", json{{"url", url}, {"events", {"*"}}});
    EXPECT_EQ(res.status, 201) << url << ": " << res.body;
  }
  // Never the unspecified address, never anything but http(s).
  for (const char* url : {"http://0.0.0.0/", "ftp://127.0.0.1/"}) {
    EXPECT_EQ(h.call(h.a, "POST", "/v1/webhooks", json{{"url", url}, {"events", {"*"}}}).status,
              400)
        << url;
  }
}

TEST(WebhookEndpoints, ARefusedUrlTellsThePartnerNothingInternal) {
  Hooks h;
  // What a name resolves to, the address class and the operator's setting stay in the operator
  // log; the partner's 400 says only that the host is not public.
  for (const char* url : {"http://localhost:8080/hooks", "http://127.0.0.1/", "http://[::1]/",
                          "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"}) {
    for (const char* method : {"POST", "PATCH"}) {
      std::string target = "/v1/webhooks";
      if (std::string(method) == "PATCH") target += "/" + h.add(h.a)["id"].get<std::string>();
      auto res = h.call(h.a, method, target, json{{"url", url}, {"events", {"*"}}});
      ASSERT_EQ(res.status, 400) << method << " " << url << ": " << res.body;
      EXPECT_EQ(fields_of(res), (std::set<std::string>{"url"})) << res.body;
      EXPECT_TRUE(first_error_message(res).starts_with("must be a public https/http address"))
          << res.body;
      for (const char* leak : {"127.0.0.1", "loopback", "allow_private_targets", "::1", "private",
                               "link-local", "resolves to", "169.254"}) {
        // The URL itself is the partner's own text; the rest of the body must not leak.
        std::string body = res.body;
        for (auto at = body.find(url); at != std::string::npos; at = body.find(url)) {
          body.erase(at, std::string(url).size());
        }
        EXPECT_EQ(body.find(leak), std::string::npos) << leak << " in: " << res.body;
      }
    }
  }
  // The operator's log has the detail.
  const std::string log = h.gw.process->output();
  EXPECT_NE(log.find("webhook URL refused for partner " + h.a.id + ": localhost resolves to "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("a loopback address"), std::string::npos) << log;
  EXPECT_NE(log.find("plugins.routes_webhooks.allow_private_targets"), std::string::npos) << log;
}

// --- isolation --------------------------------------------------------------------------------

}  // namespace
}  // namespace portico::test::webhooks_routes
