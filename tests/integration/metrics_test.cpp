// Monitoring through the real binary: exact counts scraped from GET /metrics on the admin
// listener, and the access log line of a request with a given X-Request-Id, without its API key.
#include <gtest/gtest.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/gateway_fixture.hpp"

namespace portico::test {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
const Headers kAdmin{{"Authorization", "Bearer test-admin-token"}};

struct Partner {
  std::string id;
  std::string key;
};

Partner create_partner(std::uint16_t admin_port) {
  auto created = http_request(admin_port, "POST", "/admin/v1/partners",
                              {kAdmin[0], {"Content-Type", "application/json"}},
                              json{{"name", "Metrics Co"}, {"tier", "basic"}}.dump());
  EXPECT_EQ(created.status, 201) << created.body;
  std::string id = json::parse(created.body)["id"];
  auto key = http_request(admin_port, "POST", "/admin/v1/partners/" + id + "/keys",
                          {kAdmin[0], {"Content-Type", "application/json"}}, "{}");
  EXPECT_EQ(key.status, 201) << key.body;
  return {id, json::parse(key.body)["key"]};
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

std::string all_logs(const std::filesystem::path& dir) {
  std::string text;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    text += read_file(entry.path());
  }
  return text;
}

// The access-log line carrying `request_id`, waiting for the async writer's periodic flush.
std::string access_line(const std::filesystem::path& dir, const std::string& request_id) {
  for (int i = 0; i < 100; ++i) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().filename().string().rfind("access-", 0) != 0) continue;
      std::istringstream lines(read_file(entry.path()));
      for (std::string line; std::getline(lines, line);) {
        if (line.find("\"" + request_id + "\"") != std::string::npos) return line;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

TEST(Metrics, KnownTrafficGivesExactCountsOnTheAdminListener) {
  Gateway gw;
  Partner partner = create_partner(gw.admin_port);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(gw.get("/v1/usage", {{"X-API-Key", partner.key}}).status, 200);
  }
  ASSERT_EQ(gw.get("/v1/usage").status, 401);
  ASSERT_EQ(gw.get("/v1/usage", {{"X-API-Key", "pk_live_" + std::string(32, 'A')}}).status, 401);
  ASSERT_EQ(gw.get("/no/such/thing").status, 404);
  ASSERT_EQ(gw.get("/no/such/thing/either").status, 404);

  EXPECT_EQ(http_request(gw.admin_port, "GET", "/metrics").status, 401);
  auto scraped = http_request(gw.admin_port, "GET", "/metrics", kAdmin);
  ASSERT_EQ(scraped.status, 200);
  EXPECT_EQ(scraped.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = scraped.body;

  EXPECT_TRUE(has_line(
      text,
      R"(portico_requests_total{route="/v1/usage",method="GET",status="200",tier="basic"} 3)"))
      << text;
  EXPECT_TRUE(has_line(
      text, R"(portico_requests_total{route="/v1/usage",method="GET",status="401",tier="none"} 2)"))
      << text;
  EXPECT_TRUE(has_line(
      text, R"(portico_requests_total{route="unmatched",method="GET",status="404",tier="none"} 2)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(portico_request_duration_seconds_count{route="/v1/usage",method="GET"} 5)"))
      << text;
  EXPECT_TRUE(has_line(
      text,
      R"(portico_request_duration_seconds_bucket{route="/v1/usage",method="GET",le="+Inf"} 5)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(portico_auth_failures_total{reason="missing_credentials"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(portico_auth_failures_total{reason="invalid_credentials"} 1)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(portico_ratelimit_usage_ratio{partner=")" + partner.id + R"("} 0.03)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(portico_ratelimit_rejections_total{tier="basic"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(portico_anomalies_total{kind="scanning"} 0)")) << text;
  EXPECT_NE(text.find("portico_plugin_info{name=\"auth_api_key\",version=\""), std::string::npos);
  EXPECT_NE(text.find("\nportico_build_info{version=\"0.1.0\",plugin_api=\"3.2\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos);
  // Admin requests are not partner traffic.
  EXPECT_EQ(text.find("/admin/v1"), std::string::npos);
  EXPECT_EQ(text.find(partner.key), std::string::npos);
}

// The value of the sample `name` (with its labels) in a scrape, or -1 when it is missing.
double sample_value(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

TEST(Metrics, TheIoLoopsBatchesAndYieldsAreCounted) {
  Gateway gw;
  constexpr int kRequests = 5;
  for (int i = 0; i < kRequests; ++i) ASSERT_EQ(gw.get("/v1/usage").status, 401);
  auto scraped = http_request(gw.admin_port, "GET", "/metrics", kAdmin);
  ASSERT_EQ(scraped.status, 200);
  const std::string& text = scraped.body;
  // Each request was read and answered through its loop's io_uring batch, and each of those
  // turns — a loop with one connection, below the default 64 — ended giving up the core.
  for (const char* op : {"read", "send"}) {
    const std::string labels = std::string("{op=\"") + op + "\"}";
    const double calls = sample_value(text, "portico_io_batch_calls_total" + labels);
    const double batched = sample_value(text, "portico_io_batched_total" + labels);
    EXPECT_GE(calls, kRequests) << op << "\n" << text;
    EXPECT_GE(batched, calls) << op;
  }
  EXPECT_GE(sample_value(text, "portico_io_yields_total"), kRequests) << text;
}

TEST(Metrics, AccessLogHasTheRequestLineAndNeverTheKey) {
  Gateway gw;
  Partner partner = create_partner(gw.admin_port);
  auto res = gw.get("/v1/usage", {{"X-API-Key", partner.key},
                                  {"X-Request-Id", "metrics-it-7f3a"},
                                  {"User-Agent", "metrics-test/1.0"}});
  ASSERT_EQ(res.status, 200);
  ASSERT_EQ(gw.get("/v1/usage", {{"Authorization", "Bearer " + partner.key},
                                 {"X-Request-Id", "metrics-it-bearer"}})
                .status,
            401);

  auto log_dir = gw.dir / "log";
  std::string line = access_line(log_dir, "metrics-it-7f3a");
  ASSERT_FALSE(line.empty()) << "no access-log line in " << log_dir;
  auto j = json::parse(line);
  EXPECT_EQ(j["request_id"], "metrics-it-7f3a");
  EXPECT_EQ(j["partner_id"], partner.id);
  EXPECT_TRUE(j["key_id"].is_string());
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["route"], "/v1/usage");
  EXPECT_EQ(j["path"], "/v1/usage");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["bytes"], res.body.size());
  EXPECT_EQ(j["client_ip"], "127.0.0.1");
  EXPECT_EQ(j["user_agent"], "metrics-test/1.0");
  EXPECT_TRUE(j["duration_ms"].is_number());
  EXPECT_EQ(j["time"].get<std::string>().size(), 24u);  // 2026-01-02T03:04:05.678Z
  ASSERT_FALSE(access_line(log_dir, "metrics-it-bearer").empty());

  // No file in the log directory, and nothing the process printed, holds the key.
  gw.process->signal(SIGTERM);
  EXPECT_EQ(gw.process->wait_exit(std::chrono::seconds(10)), 0);
  EXPECT_EQ(all_logs(log_dir).find(partner.key), std::string::npos);
  EXPECT_EQ(gw.process->output().find(partner.key), std::string::npos);
  bool error_log = false;
  for (const auto& entry : std::filesystem::directory_iterator(log_dir)) {
    if (entry.path().filename().string().rfind("error-", 0) == 0) error_log = true;
  }
  EXPECT_TRUE(error_log) << "error-YYYY-MM-DD.log is opened at start";
}

}  // namespace
}  // namespace portico::test
