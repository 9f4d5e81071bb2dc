// The webhook endpoint routes and the events API through the real binary: CRUD with the secret
// shown only at creation, rotation (the old secret kept 24 h as previous_secret), validation
// listing every problem, the SSRF guard at creation (and its config switch), the endpoint limit,
// webhook.test through the outbox, the 30-day event feed (own and catalog events, never another
// partner's), redelivery into webhook_deliveries, the attempt log, cascade on delete, and partner
// isolation on every route. The webhook_delivery service is switched off here, so the queue
// tables hold exactly what these routes wrote.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sdk_headers/portico/sdk/time.hpp"
#include "tests/integration/gateway_fixture.hpp"
#include "tests/integration/products_helpers.hpp"

namespace portico::test::webhooks_routes {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using products::Admin;
using products::query_db;

constexpr const char* kPublicUrl = "https://93.184.215.14/portico/hooks";  // a global address

struct Partner {
  std::string id;
  std::string key;
};

std::string code_of(const HttpResponse& res) {
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("code") || !body["code"].is_string()) return "<none>";
  return body["code"];
}

std::set<std::string> fields_of(const HttpResponse& res) {
  std::set<std::string> fields;
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("errors")) return fields;
  for (const auto& error : body["errors"]) fields.insert(error.value("field", "<no field>"));
  return fields;
}

std::string first_error_message(const HttpResponse& res) {
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("errors") || body["errors"].empty()) return "<none>";
  return body["errors"][0].value("message", "<none>");
}

std::chrono::system_clock::time_point time_of(const std::string& text) {
  auto parsed = sdk::parse_timestamp(text);
  EXPECT_TRUE(parsed) << text;
  return std::chrono::system_clock::time_point(parsed ? parsed->time_since_epoch()
                                                      : std::chrono::milliseconds(0));
}

// The outbox's whole-second form of `t`.
std::string outbox_time(std::chrono::system_clock::time_point t) {
  return sdk::format_timestamp(sdk::Timestamp(std::chrono::floor<std::chrono::seconds>(t)))
             .substr(0, 19) +
         "Z";
}

std::vector<std::string> ids_of(const json& page) {
  std::vector<std::string> ids;
  for (const auto& item : page["data"]) ids.push_back(item["id"]);
  return ids;
}

// A gateway with the demo config (webhook delivery off), the per-IP guard out of the way, and two
// premium partners whose quotas never run out.
struct Hooks {
  explicit Hooks(std::vector<std::string> extra = {})
      : gw(with_defaults(std::move(extra))), admin{gw.admin_port} {
    a = partner("Shop A");
    b = partner("Shop B");
  }

  static std::vector<std::string> with_defaults(std::vector<std::string> extra) {
    extra.insert(extra.begin(), {"--set", "security.client_ip_limit=1000000000", "--set",
                                 "plugins.webhook_delivery.enabled=false"});
    return extra;
  }

  Partner partner(const std::string& name, const json& key_body = json::object()) {
    auto res =
        admin.call("POST", "/partners",
                   {{"name", name}, {"tier", "premium"}, {"rate_limit_override", 1000000000}});
    EXPECT_EQ(res.status, 201) << res.body;
    Partner p;
    p.id = json::parse(res.body)["id"];
    p.key = key(p, key_body);
    return p;
  }
  std::string key(const Partner& p, const json& key_body = json::object()) {
    auto res = admin.call("POST", "/partners/" + p.id + "/keys", key_body);
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body)["key"];
  }

  HttpResponse call(const std::string& api_key, const std::string& method,
                    const std::string& target, const std::optional<json>& body = std::nullopt) {
    Headers headers{{"X-API-Key", api_key}};
    if (body) headers.emplace_back("Content-Type", "application/json");
    return http_request(gw.port, method, target, headers, body ? body->dump() : std::string());
  }
  HttpResponse call(const Partner& p, const std::string& method, const std::string& target,
                    const std::optional<json>& body = std::nullopt) {
    return call(p.key, method, target, body);
  }
  json get_json(const Partner& p, const std::string& target) {
    auto res = call(p, "GET", target);
    EXPECT_EQ(res.status, 200) << target << ": " << res.body;
    return json::parse(res.body, nullptr, false);
  }
  // POST /v1/webhooks that must succeed; the creation answer (with its secret).
  json create(const Partner& p, const json& body) {
    auto res = call(p, "POST", "/v1/webhooks", body);
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body, nullptr, false);
  }
  // An endpoint of `p` receiving `events`; the creation answer.
  json add(const Partner& p, const std::vector<std::string>& events = {"*"},
           const std::string& url = kPublicUrl) {
    return create(p, json{{"url", url}, {"events", events}});
  }
  std::string send_test(const Partner& p, const std::string& endpoint_id) {
    auto res = call(p, "POST", "/v1/webhooks/" + endpoint_id + "/test");
    EXPECT_EQ(res.status, 202) << res.body;
    return json::parse(res.body, nullptr, false).value("event_id", "");
  }

  std::vector<std::vector<std::string>> db(const std::string& sql) {
    return query_db(gw.dir / "portico.db", sql);
  }
  void db_write(const std::string& sql) { query_db(gw.dir / "portico.db", sql, true); }
  std::string db_value(const std::string& sql) {
    auto rows = db(sql);
    EXPECT_EQ(rows.size(), 1u) << sql;
    return rows.empty() || rows[0].empty() ? "<none>" : rows[0][0];
  }

  Gateway gw;
  Admin admin;
  Partner a;
  Partner b;
};

// --- endpoints ----------------------------------------------------------------------------------

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
  EXPECT_EQ(h.db_value("SELECT secret FROM webhook_endpoints WHERE id = '" + id + "'"), secret);

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
                  .starts_with("whsk_"));
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
  EXPECT_EQ(h.db("SELECT secret, previous_secret, previous_secret_expires_at FROM "
                 "webhook_endpoints WHERE id = '" +
                 id + "'"),
            (std::vector<std::vector<std::string>>{
                {second, first, rotated["previous_secret_expires_at"]}}));
  // Reads still show no secret.
  EXPECT_EQ(h.call(h.a, "GET", "/v1/webhooks/" + id).body.find("whsec_"), std::string::npos);

  // Rotating again: only the newest two sign; the first is dropped at once.
  json again = json::parse(h.call(h.a, "POST", "/v1/webhooks/" + id + "/rotate-secret").body);
  EXPECT_EQ(h.db("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = '" + id + "'"),
            (std::vector<std::vector<std::string>>{{again["secret"], second}}));
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
  const std::string message = first_error_message(res);
  EXPECT_NE(message.find("127.0.0.1"), std::string::npos) << message;
  EXPECT_NE(message.find("plugins.routes_webhooks.allow_private_targets"), std::string::npos)
      << message;
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

// --- isolation --------------------------------------------------------------------------------

TEST(WebhookIsolation, AnotherPartnersEndpointsAndEventsAre404) {
  Hooks h;
  const std::string endpoint = h.add(h.a)["id"];
  const std::string event = h.send_test(h.a, endpoint);
  ASSERT_FALSE(event.empty());
  const std::string missing_endpoint = "we_000000000000000000000000";
  const std::string missing_event = "evt_000000000000000000000000";

  struct Probe {
    std::string method;
    std::string path;
    std::optional<json> body;
  };
  auto probes = [](const std::string& e, const std::string& ev) {
    return std::vector<Probe>{
        {"GET", "/v1/webhooks/" + e, std::nullopt},
        {"PATCH", "/v1/webhooks/" + e, json{{"description", "mine now"}}},
        {"DELETE", "/v1/webhooks/" + e, std::nullopt},
        {"POST", "/v1/webhooks/" + e + "/rotate-secret", std::nullopt},
        {"POST", "/v1/webhooks/" + e + "/test", std::nullopt},
        {"GET", "/v1/webhooks/" + e + "/deliveries", std::nullopt},
        {"GET", "/v1/events/" + ev, std::nullopt},
        {"POST", "/v1/events/" + ev + "/redeliver", std::nullopt},
    };
  };
  auto theirs = probes(endpoint, event);
  auto missing = probes(missing_endpoint, missing_event);
  for (std::size_t i = 0; i < theirs.size(); ++i) {
    auto as_b = h.call(h.b, theirs[i].method, theirs[i].path, theirs[i].body);
    auto absent = h.call(h.b, missing[i].method, missing[i].path, missing[i].body);
    EXPECT_EQ(as_b.status, 404) << theirs[i].method << " " << theirs[i].path << ": " << as_b.body;
    EXPECT_EQ(code_of(as_b), "not_found") << theirs[i].path;
    EXPECT_EQ(absent.status, 404) << missing[i].path;
    // The same answer as for an id that does not exist, but for the id it names.
    json x = json::parse(as_b.body, nullptr, false), y = json::parse(absent.body, nullptr, false);
    for (const char* member : {"type", "title", "status", "code"}) {
      EXPECT_EQ(x[member], y[member]) << member << " of " << theirs[i].path;
    }
  }
  // Nothing of A's changed, nothing of A's is listed for B.
  json still = h.get_json(h.a, "/v1/webhooks/" + endpoint);
  EXPECT_EQ(still["description"], "");
  EXPECT_EQ(h.get_json(h.b, "/v1/webhooks")["data"].size(), 0u);
  json feed_b = h.get_json(h.b, "/v1/events?type=webhook.test");
  EXPECT_EQ(feed_b["data"].size(), 0u);
  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_deliveries"), "0");
}

TEST(WebhookIsolation, ScopesGuardTheRoutes) {
  Hooks h;
  const std::string reader = h.key(h.a, json{{"scopes", {"events:read"}}});
  const std::string manager = h.key(h.a, json{{"scopes", {"webhooks:manage"}}});
  EXPECT_EQ(h.call(reader, "GET", "/v1/events").status, 200);
  EXPECT_EQ(h.call(reader, "GET", "/v1/webhooks").status, 403);
  EXPECT_EQ(
      h.call(reader, "POST", "/v1/webhooks", json{{"url", kPublicUrl}, {"events", {"*"}}}).status,
      403);
  EXPECT_EQ(h.call(manager, "GET", "/v1/webhooks").status, 200);
  EXPECT_EQ(h.call(manager, "GET", "/v1/events").status, 403);
  EXPECT_EQ(h.call("pk_test_nope", "GET", "/v1/webhooks").status, 401);
}

// --- test events and the events API -----------------------------------------------------------

TEST(WebhookEvents, TestEventGoesThroughTheOutboxAndTheFeedShowsOwnAndCatalogEvents) {
  Hooks h;
  const std::string endpoint = h.add(h.a, {"order.*"})["id"];  // filters do not matter
  const std::string test_event = h.send_test(h.a, endpoint);
  ASSERT_TRUE(test_event.starts_with("evt_")) << test_event;
  EXPECT_EQ(
      h.db("SELECT type, partner_id, subject FROM outbox_events WHERE id = '" + test_event + "'"),
      (std::vector<std::vector<std::string>>{{"webhook.test", h.a.id, endpoint}}));

  // B's test event, and a catalog change (product.updated + inventory.changed, partner '').
  const std::string endpoint_b = h.add(h.b)["id"];
  const std::string event_b = h.send_test(h.b, endpoint_b);
  h.admin.import(json::array({products::product(1)}));

  auto res = h.call(h.a, "GET", "/v1/events");
  ASSERT_EQ(res.status, 200) << res.body;
  json feed = json::parse(res.body);
  std::vector<std::string> types;
  for (const auto& event : feed["data"]) types.push_back(event["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"inventory.changed", "product.updated",
                                             "webhook.test"}));  // newest first
  EXPECT_EQ(ids_of(feed).back(), test_event);
  EXPECT_EQ(res.body.find(event_b), std::string::npos);
  EXPECT_FALSE(feed["has_more"].get<bool>());

  // Each item is the stored Standard Webhooks body, exactly.
  const json& test = feed["data"][2];
  EXPECT_EQ(test["id"], test_event);
  EXPECT_EQ(test["api_version"], "v1");
  EXPECT_EQ(test["data"]["object"]["endpoint_id"], endpoint);
  EXPECT_TRUE(test["data"]["object"]["message"].is_string());
  EXPECT_EQ(test, json::parse(h.db_value("SELECT payload FROM outbox_events WHERE id = '" +
                                         test_event + "'")));
  EXPECT_EQ(h.get_json(h.a, "/v1/events/" + test_event), test);
  const std::string catalog_event = feed["data"][0]["id"];
  EXPECT_EQ(h.get_json(h.b, "/v1/events/" + catalog_event)["type"], "inventory.changed");

  // Filters: types (exact or patterns), created_since; pages.
  json tests_only = h.get_json(h.a, "/v1/events?type=webhook.test");
  EXPECT_EQ(ids_of(tests_only), (std::vector<std::string>{test_event}));
  json catalog = h.get_json(h.a, "/v1/events?type=product.updated,%20inventory.*");
  EXPECT_EQ(catalog["data"].size(), 2u);
  EXPECT_EQ(h.get_json(h.a, "/v1/events?type=order.*")["data"].size(), 0u);
  EXPECT_EQ(h.get_json(h.a, "/v1/events?created_since=2000-01-01T00:00:00Z")["data"].size(), 3u);
  EXPECT_EQ(h.get_json(h.a, "/v1/events?created_since=2999-01-01T00:00:00%2B09:00")["data"].size(),
            0u);
  std::vector<std::string> walked;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    json body = h.get_json(h.a, "/v1/events?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (auto& id : ids_of(body)) walked.push_back(id);
    if (!body["has_more"].get<bool>()) break;
    cursor = body["next_cursor"];
  }
  EXPECT_EQ(walked, ids_of(feed));
  // A cursor belongs to its filters.
  json first = h.get_json(h.a, "/v1/events?limit=1");
  auto bad = h.call(
      h.a, "GET",
      "/v1/events?limit=1&type=webhook.test&cursor=" + first["next_cursor"].get<std::string>());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(fields_of(bad), (std::set<std::string>{"cursor"}));

  bad = h.call(h.a, "GET", "/v1/events?type=order.create&created_since=soon&kind=x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(fields_of(bad), (std::set<std::string>{"type", "created_since", "kind"}));
  EXPECT_NE(bad.body.find("did you mean 'order.created'"), std::string::npos) << bad.body;
}

TEST(WebhookEvents, TheFeedReachesBackThirtyDaysOnly) {
  Hooks h;
  const auto now = std::chrono::system_clock::now();
  auto insert = [&](const std::string& id, const std::string& partner, const std::string& created) {
    json payload = {{"id", id},
                    {"type", "order.created"},
                    {"created", created},
                    {"api_version", "v1"},
                    {"data", {{"object", {{"id", "ord_1"}}}}}};
    h.db_write(
        "INSERT INTO outbox_events(id, type, partner_id, subject, payload, created_at) VALUES ('" +
        id + "', 'order.created', '" + partner + "', 'ord_1', '" + payload.dump() + "', '" +
        created + "')");
  };
  insert("evt_old", h.a.id, outbox_time(now - std::chrono::hours(24 * 31)));
  insert("evt_recent", h.a.id, outbox_time(now - std::chrono::hours(24 * 29)));
  insert("evt_others", h.b.id, outbox_time(now - std::chrono::hours(1)));

  EXPECT_EQ(ids_of(h.get_json(h.a, "/v1/events")), (std::vector<std::string>{"evt_recent"}));
  EXPECT_EQ(ids_of(h.get_json(h.a, "/v1/events?created_since=2000-01-01T00:00:00Z")),
            (std::vector<std::string>{"evt_recent"}));
  EXPECT_EQ(h.call(h.a, "GET", "/v1/events/evt_old").status, 404);
  EXPECT_EQ(h.call(h.a, "GET", "/v1/events/evt_others").status, 404);
  EXPECT_EQ(h.get_json(h.a, "/v1/events/evt_recent")["id"], "evt_recent");
  EXPECT_EQ(h.get_json(h.b, "/v1/events/evt_others")["id"], "evt_others");
}

// --- redelivery, the attempt log, cascade on delete ---------------------------------------------

TEST(WebhookDeliveries, RedeliverQueuesTheEventForEveryMatchingEnabledEndpoint) {
  Hooks h;
  const std::string orders = h.add(h.a, {"order.*"})["id"];
  const std::string stock = h.add(h.a, {"inventory.changed", "product.updated"})["id"];
  const std::string everything = h.add(h.a, {"*"})["id"];
  const std::string off = h.add(h.a, {"*"})["id"];
  ASSERT_EQ(h.call(h.a, "PATCH", "/v1/webhooks/" + off, json{{"status", "disabled"}}).status, 200);
  h.add(h.b, {"*"});  // another partner's endpoint never gets A's redelivery

  h.admin.import(json::array({products::product(7)}));
  const std::string inventory_event =
      h.db_value("SELECT id FROM outbox_events WHERE type = 'inventory.changed'");
  const std::string sequence =
      h.db_value("SELECT sequence FROM outbox_events WHERE id = '" + inventory_event + "'");

  const auto before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  auto res = h.call(h.a, "POST", "/v1/events/" + inventory_event + "/redeliver");
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(json::parse(res.body), (json{{"event_id", inventory_event}, {"deliveries", 2}}));
  auto rows = h.db(
      "SELECT endpoint_id, event_sequence, ordering_key, state, attempts, next_attempt_at"
      " FROM webhook_deliveries WHERE event_id = '" +
      inventory_event + "' ORDER BY endpoint_id");
  ASSERT_EQ(rows.size(), 2u);
  std::set<std::string> targets{rows[0][0], rows[1][0]};
  EXPECT_EQ(targets, (std::set<std::string>{stock, everything}));
  for (const auto& row : rows) {
    EXPECT_EQ(row[1], sequence);
    EXPECT_EQ(row[2], "prod_0007");  // the event's subject: per-product ordering
    EXPECT_EQ(row[3], "pending");
    EXPECT_EQ(row[4], "0");
    EXPECT_GE(std::stoll(row[5]), before_ms - 1000);
    EXPECT_LE(std::stoll(row[5]), before_ms + 60000);
  }

  // A test event goes back only to the endpoint it was sent to, whatever the filters.
  const std::string test_event = h.send_test(h.a, orders);
  res = h.call(h.a, "POST", "/v1/events/" + test_event + "/redeliver");
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(json::parse(res.body)["deliveries"], 1);
  EXPECT_EQ(
      h.db("SELECT endpoint_id FROM webhook_deliveries WHERE event_id = '" + test_event + "'"),
      (std::vector<std::vector<std::string>>{{orders}}));

  // Nothing subscribed: 409, nothing queued.
  ASSERT_EQ(h.call(h.a, "PATCH", "/v1/webhooks/" + stock, json{{"status", "disabled"}}).status,
            200);
  ASSERT_EQ(
      h.call(h.a, "PATCH", "/v1/webhooks/" + everything, json{{"events", {"order.*"}}}).status,
      200);
  res = h.call(h.a, "POST", "/v1/events/" + inventory_event + "/redeliver");
  EXPECT_EQ(res.status, 409) << res.body;
  EXPECT_EQ(code_of(res), "no_matching_endpoints");
  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_deliveries"), "3");
}

TEST(WebhookDeliveries, TheAttemptLogAndCascadeOnDelete) {
  Hooks h;
  const std::string endpoint = h.add(h.a)["id"];
  const std::string other = h.add(h.a)["id"];
  const std::string first = h.send_test(h.a, endpoint);
  const std::string second = h.send_test(h.a, endpoint);
  // What webhook_delivery records: a delivery per (event, endpoint), an attempt per try.
  h.db_write(
      "INSERT INTO webhook_deliveries(id, endpoint_id, event_id, event_sequence, ordering_key,"
      " state, attempts, next_attempt_at, last_status, created_at, updated_at) VALUES"
      " (1, '" +
      endpoint + "', '" + first +
      "', 1, '', 'succeeded', 2, 0, 200, 'c', 'u'),"
      " (2, '" +
      endpoint + "', '" + second +
      "', 2, '', 'pending', 1, 0, 500, 'c', 'u'),"
      " (3, '" +
      other + "', '" + first + "', 1, '', 'pending', 1, 0, NULL, 'c', 'u')");
  h.db_write(
      "INSERT INTO webhook_attempts(id, delivery_id, endpoint_id, event_id, attempt, at,"
      " status_code, latency_ms, error) VALUES"
      " (1, 1, '" +
      endpoint + "', '" + first +
      "', 1, '2026-11-26T10:00:00.000Z', NULL, 15000,"
      " 'timed out after 15s'),"
      " (2, 1, '" +
      endpoint + "', '" + first +
      "', 2, '2026-11-26T10:00:05.000Z', 200, 42, NULL),"
      " (3, 2, '" +
      endpoint + "', '" + second +
      "', 1, '2026-11-26T10:01:00.000Z', 500, 17,"
      " 'HTTP 500'),"
      " (4, 3, '" +
      other + "', '" + first +
      "', 1, '2026-11-26T10:02:00.000Z', NULL, 3,"
      " 'connection refused')");

  json log = h.get_json(h.a, "/v1/webhooks/" + endpoint + "/deliveries");
  ASSERT_EQ(log["data"].size(), 3u) << log.dump();
  EXPECT_EQ(log["data"][0], (json{{"id", 3},
                                  {"event_id", second},
                                  {"event_type", "webhook.test"},
                                  {"attempt", 1},
                                  {"at", "2026-11-26T10:01:00.000Z"},
                                  {"status_code", 500},
                                  {"latency_ms", 17},
                                  {"error", "HTTP 500"},
                                  {"delivery_state", "pending"}}));
  EXPECT_EQ(log["data"][1]["status_code"], 200);
  EXPECT_TRUE(log["data"][1]["error"].is_null());
  EXPECT_EQ(log["data"][1]["delivery_state"], "succeeded");
  EXPECT_TRUE(log["data"][2]["status_code"].is_null());
  EXPECT_EQ(log["data"][2]["error"], "timed out after 15s");

  json filtered = h.get_json(h.a, "/v1/webhooks/" + endpoint + "/deliveries?event_id=" + first);
  EXPECT_EQ(filtered["data"].size(), 2u);
  json page = h.get_json(h.a, "/v1/webhooks/" + endpoint + "/deliveries?limit=2");
  EXPECT_TRUE(page["has_more"].get<bool>());
  json rest = h.get_json(h.a, "/v1/webhooks/" + endpoint + "/deliveries?limit=2&cursor=" +
                                  page["next_cursor"].get<std::string>());
  EXPECT_EQ(rest["data"].size(), 1u);
  EXPECT_EQ(rest["data"][0]["id"], 1);
  EXPECT_FALSE(rest["has_more"].get<bool>());
  // The cursor is this endpoint's.
  EXPECT_EQ(h.call(h.a, "GET",
                   "/v1/webhooks/" + other +
                       "/deliveries?limit=2&cursor=" + page["next_cursor"].get<std::string>())
                .status,
            400);
  EXPECT_EQ(h.call(h.a, "GET", "/v1/webhooks/" + endpoint + "/deliveries?event_id=ord_1").status,
            400);

  // Deleting the endpoint takes its deliveries and attempts with it, and only its.
  EXPECT_EQ(h.call(h.a, "DELETE", "/v1/webhooks/" + endpoint).status, 204);
  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_deliveries"), "1");
  EXPECT_EQ(h.db_value("SELECT COUNT(*) FROM webhook_attempts"), "1");
  EXPECT_EQ(h.get_json(h.a, "/v1/webhooks/" + other + "/deliveries")["data"].size(), 1u);
}

}  // namespace
}  // namespace portico::test::webhooks_routes
