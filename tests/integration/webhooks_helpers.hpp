// Shared by the webhook route tests: a partner with a key and the webhook/event routes as calls.
// The webhook_delivery service is switched off in this gateway, so the queue tables hold exactly
// what the routes wrote.
#pragma once

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

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using products::Admin;
using products::query_db;

constexpr const char* kPublicUrl = "https://93.184.215.14/portico/hooks";  // a global address

struct Partner {
  std::string id;
  std::string key;
};

inline std::string code_of(const HttpResponse& res) {
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("code") || !body["code"].is_string()) return "<none>";
  return body["code"];
}

inline std::set<std::string> fields_of(const HttpResponse& res) {
  std::set<std::string> fields;
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("errors")) return fields;
  for (const auto& error : body["errors"]) fields.insert(error.value("field", "<no field>"));
  return fields;
}

inline std::string first_error_message(const HttpResponse& res) {
  json body = json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("errors") || body["errors"].empty()) return "<none>";
  return body["errors"][0].value("message", "<none>");
}

inline std::chrono::system_clock::time_point time_of(const std::string& text) {
  auto parsed = sdk::parse_timestamp(text);
  EXPECT_TRUE(parsed) << text;
  return std::chrono::system_clock::time_point(parsed ? parsed->time_since_epoch()
                                                      : std::chrono::milliseconds(0));
}

// The outbox's whole-second form of `t`.
inline std::string outbox_time(std::chrono::system_clock::time_point t) {
  return sdk::format_timestamp(sdk::Timestamp(std::chrono::floor<std::chrono::seconds>(t)))
             .substr(0, 19) +
         "Z";
}

inline std::vector<std::string> ids_of(const json& page) {
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

}  // namespace portico::test::webhooks_routes
