// The admin audit log through the real binary: partner and key changes, a catalog import, stock,
// reloads (POST and SIGHUP) and refused requests each leave one JSON line in
// <logging.dir>/audit-YYYY-MM-DD.log, on disk by the time the answer arrives, with ids only —
// never a key, the admin token or a body.
#include <gtest/gtest.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/gateway_fixture.hpp"

namespace portico::test {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kToken = "test-admin-token";

struct Admin {
  std::uint16_t port;
  HttpResponse call(const std::string& method, const std::string& path, const json& body = nullptr,
                    const std::string& request_id = {}, const std::string& token = kToken) {
    Headers headers{{"Authorization", "Bearer " + token}};
    if (!request_id.empty()) headers.emplace_back("X-Request-Id", request_id);
    std::string text;
    if (!body.is_null()) {
      headers.emplace_back("Content-Type", "application/json");
      text = body.dump();
    }
    return http_request(port, method, "/admin/v1" + path, headers, text);
  }
};

// Every line of every audit file in the gateway's log dir, in order.
std::vector<json> audit_lines(const Gateway& gw) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(gw.dir / "log")) {
    std::string name = entry.path().filename().string();
    if (name.rfind("audit-", 0) == 0 && name.size() == 20 && name.ends_with(".log")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<json> lines;
  for (const auto& file : files) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  }
  return lines;
}

std::string audit_text(const Gateway& gw) {
  std::string text;
  for (const auto& entry : std::filesystem::directory_iterator(gw.dir / "log")) {
    if (entry.path().filename().string().rfind("audit-", 0) == 0) text += read_file(entry.path());
  }
  return text;
}

json product(const std::string& id) {
  return {{"id", id},
          {"sku", "SKU-" + id},
          {"name", "Secretly named product " + id},
          {"description", "Body text that must not be audited"},
          {"category", "audio"},
          {"price", {{"amount", 12000}, {"currency", "KRW"}}}};
}

void expect_line(const json& line, const std::string& action, const std::string& method,
                 const json& route, const json& target, int status, const std::string& outcome) {
  SCOPED_TRACE(line.dump());
  EXPECT_EQ(line["action"], action);
  EXPECT_EQ(line["method"], method);
  EXPECT_EQ(line["route"], route);
  EXPECT_EQ(line["target"], target);
  EXPECT_EQ(line["caller"], "127.0.0.1");
  EXPECT_EQ(line["status"], status);
  EXPECT_EQ(line["outcome"], outcome);
  std::string time = line["time"];
  // RFC 3339 UTC with milliseconds: 2026-11-26T10:00:00.123Z
  EXPECT_EQ(time.size(), 24u);
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_EQ(time[19], '.');
}

TEST(AdminAudit, EveryAdminChangeLeavesOneLineWithIdsAndNoSecret) {
  Gateway gw;
  Admin admin{gw.admin_port};

  auto created = admin.call("POST", "/partners", {{"name", "Audit Corp"}, {"tier", "basic"}},
                            "req-audit-create");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string partner = json::parse(created.body)["id"];
  // On disk by the time the answer arrives.
  auto lines = audit_lines(gw);
  ASSERT_EQ(lines.size(), 1u);
  expect_line(lines[0], "partners.create", "POST", "/admin/v1/partners", json::object(), 201,
              "succeeded");
  EXPECT_EQ(lines[0]["request_id"], "req-audit-create");
  EXPECT_EQ(lines[0]["created"], partner);

  ASSERT_EQ(admin.call("GET", "/partners").status, 200);  // reads are not audited
  ASSERT_EQ(admin.call("PATCH", "/partners/" + partner, {{"tier", "premium"}}).status, 200);
  auto issued = admin.call("POST", "/partners/" + partner + "/keys");
  ASSERT_EQ(issued.status, 201) << issued.body;
  json key = json::parse(issued.body);
  std::string key_id = key["id"];
  auto rotated = admin.call("POST", "/partners/" + partner + "/keys/" + key_id + "/rotate",
                            {{"overlap_seconds", 0}});
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  json new_key = json::parse(rotated.body);
  std::string new_key_id = new_key["id"];
  ASSERT_EQ(admin.call("DELETE", "/partners/" + partner + "/keys/" + new_key_id).status, 204);
  ASSERT_EQ(admin.call("DELETE", "/partners/" + partner + "/keys/key_doesnotexist").status, 404);
  auto imported =
      admin.call("POST", "/products/import", json::array({product("p1"), product("p2")}));
  ASSERT_EQ(imported.status, 200) << imported.body;
  auto stock = admin.call("PUT", "/products/p1/inventory",
                          json::parse(R"({"warehouses": [{"id": "icn-1", "available": 5}]})"));
  ASSERT_EQ(stock.status, 200) << stock.body;
  ASSERT_EQ(admin.call("PATCH", "/partners/" + partner, {{"status", "disabled"}}).status, 200);
  ASSERT_EQ(admin.call("POST", "/reload").status, 200);
  // Refused for the token: audited whatever the method, with nothing of what was presented.
  ASSERT_EQ(admin
                .call("POST", "/partners", {{"name", "Mallory"}, {"tier", "basic"}}, {},
                      "wrong-token-guess-1")
                .status,
            401);
  ASSERT_EQ(admin.call("GET", "/partners", nullptr, {}, "wrong-token-guess-2").status, 401);
  ASSERT_EQ(http_request(gw.admin_port, "DELETE", "/admin/v1/nothing-here").status, 401);
  ASSERT_EQ(admin.call("DELETE", "/nothing-here").status, 404);

  const json partner_target = {{"id", partner}};
  const json key_target = {{"id", partner}, {"key_id", key_id}};
  lines = audit_lines(gw);
  ASSERT_EQ(lines.size(), 14u) << audit_text(gw);
  expect_line(lines[1], "partners.update", "PATCH", "/admin/v1/partners/{id}", partner_target, 200,
              "succeeded");
  expect_line(lines[2], "partners.keys.create", "POST", "/admin/v1/partners/{id}/keys",
              partner_target, 201, "succeeded");
  EXPECT_EQ(lines[2]["created"], key_id);
  expect_line(lines[3], "partners.keys.rotate", "POST",
              "/admin/v1/partners/{id}/keys/{key_id}/rotate", key_target, 201, "succeeded");
  EXPECT_EQ(lines[3]["created"], new_key_id);
  expect_line(lines[4], "partners.keys.delete", "DELETE", "/admin/v1/partners/{id}/keys/{key_id}",
              json({{"id", partner}, {"key_id", new_key_id}}), 204, "succeeded");
  expect_line(lines[5], "partners.keys.delete", "DELETE", "/admin/v1/partners/{id}/keys/{key_id}",
              json({{"id", partner}, {"key_id", "key_doesnotexist"}}), 404, "refused");
  expect_line(lines[6], "products.import", "POST", "/admin/v1/products/import", json::object(), 200,
              "succeeded");
  expect_line(lines[7], "products.inventory.set", "PUT", "/admin/v1/products/{id}/inventory",
              json({{"id", "p1"}}), 200, "succeeded");
  expect_line(lines[8], "partners.update", "PATCH", "/admin/v1/partners/{id}", partner_target, 200,
              "succeeded");
  expect_line(lines[9], "reload", "POST", "/admin/v1/reload", json::object(), 200, "succeeded");
  expect_line(lines[10], "unauthorized", "POST", "/admin/v1/partners", json::object(), 401,
              "refused");
  EXPECT_FALSE(lines[10].contains("created"));
  expect_line(lines[11], "unauthorized", "GET", "/admin/v1/partners", json::object(), 401,
              "refused");
  expect_line(lines[12], "unauthorized", "DELETE", nullptr, json::object(), 401, "refused");
  expect_line(lines[13], "no_route", "DELETE", nullptr, json::object(), 404, "refused");
  for (const auto& line : lines) {
    std::string id = line["request_id"];
    EXPECT_FALSE(id.empty());
  }

  // A SIGHUP reload is audited too, with the signal as the caller.
  gw.process->signal(SIGHUP);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (audit_lines(gw).size() < 15 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  lines = audit_lines(gw);
  ASSERT_EQ(lines.size(), 15u);
  EXPECT_EQ(lines[14]["action"], "reload");
  EXPECT_EQ(lines[14]["caller"], "signal:SIGHUP");
  EXPECT_TRUE(lines[14]["method"].is_null());
  EXPECT_EQ(lines[14]["status"], 200);
  EXPECT_EQ(lines[14]["outcome"], "succeeded");

  // Never a secret, never a body.
  std::string text = audit_text(gw);
  for (const std::string& secret :
       {key["key"].get<std::string>(), new_key["key"].get<std::string>(), std::string(kToken),
        std::string("wrong-token-guess"), std::string("pk_live_"), std::string("Audit Corp"),
        std::string("Mallory"), std::string("Secretly named"), std::string("must not be audited"),
        std::string("premium"), std::string("icn-1")}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
}

TEST(AdminAudit, ARefusedSighupReloadIsAuditedAsRefused) {
  TempDir config_dir;
  std::string text = read_file(demo_config());
  auto file = config_dir.write("portico.toml", text);
  Gateway gw({"-c", file.string()});
  std::ofstream(file, std::ios::app) << "\n[server]\nthreads = \"many\"\n";  // a broken config
  gw.process->signal(SIGHUP);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (audit_lines(gw).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto lines = audit_lines(gw);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["action"], "reload");
  EXPECT_EQ(lines[0]["caller"], "signal:SIGHUP");
  EXPECT_EQ(lines[0]["status"], 422);
  EXPECT_EQ(lines[0]["outcome"], "refused");
}

}  // namespace
}  // namespace portico::test
