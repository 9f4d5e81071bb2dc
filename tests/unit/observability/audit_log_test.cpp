// The admin audit log: the line's fields in order, outcomes, action names derived from route
// patterns, daily files named audit-YYYY-MM-DD.log written through at once, retention, no secrets.
#include "core/observability/audit_log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <vector>

#include "core/observability/daily_file_sink.hpp"
#include "core/observability/log_retention.hpp"
#include "core/util/time.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::observability {
namespace {

using json = nlohmann::json;

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::chrono::system_clock::time_point at(const char* rfc3339) {
  return *util::parse_rfc3339(rfc3339);
}

AuditRecord rotation() {
  AuditRecord r;
  r.time = at("2026-11-26T10:00:00.123Z");
  r.action = "partners.keys.rotate";
  r.method = "POST";
  r.route = "/admin/v1/partners/{id}/keys/{key_id}/rotate";
  r.target = {{"id", "ptr_1"}, {"key_id", "key_2"}};
  r.request_id = "req_abc";
  r.caller = "10.1.2.3";
  r.status = 201;
  r.created = "key_3";
  return r;
}

TEST(AuditLine, HasEveryFieldInOrder) {
  EXPECT_EQ(format_audit_line(rotation()),
            R"({"time":"2026-11-26T10:00:00.123Z","action":"partners.keys.rotate",)"
            R"("method":"POST","route":"/admin/v1/partners/{id}/keys/{key_id}/rotate",)"
            R"("target":{"id":"ptr_1","key_id":"key_2"},"request_id":"req_abc",)"
            R"("caller":"10.1.2.3","status":201,"outcome":"succeeded","created":"key_3"})");
}

TEST(AuditLine, SignalReloadHasNullMethodAndRouteAndNoCreated) {
  AuditRecord r;
  r.time = at("2026-11-26T10:00:00Z");
  r.action = "reload";
  r.request_id = "req_x";
  r.caller = "signal:SIGHUP";
  r.status = 422;
  auto line = json::parse(format_audit_line(r));
  EXPECT_TRUE(line["method"].is_null());
  EXPECT_TRUE(line["route"].is_null());
  EXPECT_EQ(line["target"], json::object());
  EXPECT_EQ(line["caller"], "signal:SIGHUP");
  EXPECT_EQ(line["outcome"], "refused");
  EXPECT_FALSE(line.contains("created"));
  EXPECT_EQ(line["time"], "2026-11-26T10:00:00.000Z");
}

TEST(AuditLine, OutcomeFollowsTheStatus) {
  EXPECT_EQ(audit_outcome(200), "succeeded");
  EXPECT_EQ(audit_outcome(204), "succeeded");
  EXPECT_EQ(audit_outcome(401), "refused");
  EXPECT_EQ(audit_outcome(429), "refused");
  EXPECT_EQ(audit_outcome(500), "failed");
  EXPECT_EQ(audit_outcome(503), "failed");
}

TEST(AuditLine, KeyShapedTextIsRedactedAndBadBytesReplaced) {
  AuditRecord r = rotation();
  r.target = {{"id", "pk_live_Z9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gFe"}, {"key_id", "a\xff\"b"}};
  std::string text = format_audit_line(r);
  EXPECT_EQ(text.find("Z9yX8wV7"), std::string::npos) << text;
  auto line = json::parse(text);  // still valid JSON
  EXPECT_EQ(line["target"]["id"], "pk_live_[redacted]");
  EXPECT_EQ(line["target"]["key_id"], "a\xef\xbf\xbd\"b");
}

TEST(AuditLine, LongValuesAreCut) {
  AuditRecord r = rotation();
  r.target = {{"id", std::string(5000, 'x')}};
  auto line = json::parse(format_audit_line(r));
  EXPECT_EQ(line["target"]["id"].get<std::string>().size(), 256u);
}

TEST(AuditAction, DerivedFromTheRoutePattern) {
  EXPECT_EQ(admin_action("POST", "/admin/v1/partners", true), "partners.create");
  EXPECT_EQ(admin_action("PATCH", "/admin/v1/partners/{id}", false), "partners.update");
  EXPECT_EQ(admin_action("POST", "/admin/v1/partners/{id}/keys", true), "partners.keys.create");
  EXPECT_EQ(admin_action("DELETE", "/admin/v1/partners/{id}/keys/{key_id}", false),
            "partners.keys.delete");
  EXPECT_EQ(admin_action("POST", "/admin/v1/partners/{id}/keys/{key_id}/rotate", false),
            "partners.keys.rotate");
  EXPECT_EQ(admin_action("POST", "/admin/v1/products/import", false), "products.import");
  EXPECT_EQ(admin_action("PUT", "/admin/v1/products/{id}", false), "products.set");
  EXPECT_EQ(admin_action("PUT", "/admin/v1/products/{id}/inventory", false),
            "products.inventory.set");
  EXPECT_EQ(admin_action("POST", "/admin/v1/products/{id}/inventory/adjustments", false),
            "products.inventory.adjustments");
  EXPECT_EQ(admin_action("POST", "/admin/v1/orders/{id}/status", false), "orders.status");
  EXPECT_EQ(admin_action("POST", "/admin/v1/orders/{id}/shipment", false), "orders.shipment");
  EXPECT_EQ(admin_action("POST", "/admin/v1/reload", false), "reload");
  EXPECT_EQ(admin_action("POST", "/admin/v1/partners/{id}/oauth-clients", true),
            "partners.oauth_clients.create");
  EXPECT_EQ(admin_action("GET", "/metrics", false), "metrics.read");
  EXPECT_EQ(admin_action("PATCH", "/admin/v1/partners/{id}/keys", true), "partners.keys.update");
}

TEST(AuditLog, WritesTodaysFileAndEveryLineIsOnDiskBeforeWriteReturns) {
  test::TempDir dir;
  AuditLog log(dir / "log");  // creates the directory
  AuditRecord r = rotation();
  r.time = std::chrono::system_clock::now();
  log.write(r);
  auto file = dir / "log" / daily_file_name("audit", ".log", r.time);
  auto lines = lines_of(file);  // read while the log is still open: nothing is held back
  ASSERT_EQ(lines.size(), 1u) << file;
  EXPECT_EQ(json::parse(lines[0])["action"], "partners.keys.rotate");
  log.write(r);
  EXPECT_EQ(lines_of(file).size(), 2u);
}

TEST(AuditLog, EachLineGoesToTheFileOfItsUtcDay) {
  test::TempDir dir;
  AuditLog log(dir.path());
  AuditRecord r = rotation();
  r.time = at("2026-11-26T23:59:59.999Z");
  log.write(r);
  r.time = at("2026-11-27T00:00:00.000Z");
  r.action = "reload";
  log.write(r);
  auto first = lines_of(dir / "audit-2026-11-26.log");
  auto second = lines_of(dir / "audit-2026-11-27.log");
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(json::parse(second[0])["action"], "reload");
}

TEST(AuditLog, AnUnwritableDirectoryFailsAtConstruction) {
  test::TempDir dir;
  auto file = dir.write("not-a-dir", "x");
  EXPECT_THROW(AuditLog(file / "sub"), std::runtime_error);
}

TEST(AuditLog, FilesAreKeptRetentionDaysLikeTheOtherLogs) {
  test::TempDir dir;
  EXPECT_TRUE(log_file_day("audit-2026-11-26.log"));
  EXPECT_FALSE(log_file_day("audit-2026-11-26.jsonl"));
  dir.write("audit-2026-01-01.log", "{}\n");
  dir.write("audit-2026-11-20.log", "{}\n");
  auto deleted = sweep_old_logs(dir.path(), 30, at("2026-11-26T12:00:00Z"));
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].filename(), "audit-2026-01-01.log");
  EXPECT_TRUE(std::filesystem::exists(dir / "audit-2026-11-20.log"));
}

}  // namespace
}  // namespace portico::observability
