// The Grafana dashboard imports (valid JSON, a Prometheus data-source variable) and covers the
// seed's four metrics with metric names the gateway really exports.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "tests/support/temp_dir.hpp"

namespace portico::observability {
namespace {

nlohmann::json dashboard() {
  return nlohmann::json::parse(test::read_file(std::string(PORTICO_SOURCE_DIR) +
                                               "/packaging/grafana/portico-dashboard.json"));
}

std::string all_expressions(const nlohmann::json& d) {
  std::string all;
  for (const auto& panel : d["panels"]) {
    for (const auto& target : panel["targets"]) all += target["expr"].get<std::string>() + "\n";
  }
  return all;
}

TEST(Dashboard, IsImportableWithAPrometheusDataSourceVariable) {
  auto d = dashboard();
  EXPECT_EQ(d["uid"], "portico-gateway");
  bool datasource = false;
  for (const auto& variable : d["templating"]["list"]) {
    if (variable["type"] == "datasource" && variable["query"] == "prometheus") datasource = true;
  }
  EXPECT_TRUE(datasource);
  std::set<int> ids;
  for (const auto& panel : d["panels"]) {
    EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << "duplicate panel id";
    EXPECT_EQ(panel["datasource"]["uid"], "${datasource}");
  }
}

TEST(Dashboard, CoversRequestsResponseTimeErrorsAndRateLimitUsage) {
  std::string exprs = all_expressions(dashboard());
  for (const char* needle :
       {"rate(portico_requests_total", "histogram_quantile(0.5,", "histogram_quantile(0.95,",
        "histogram_quantile(0.99,", "portico_request_duration_seconds_bucket", "status=~\"5..\"",
        "portico_ratelimit_usage_ratio", "portico_anomalies_total"}) {
    EXPECT_NE(exprs.find(needle), std::string::npos) << needle;
  }
}

}  // namespace
}  // namespace portico::observability
