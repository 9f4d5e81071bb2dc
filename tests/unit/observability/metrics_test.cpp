// Known traffic → exact values in the /metrics text.
#include <gtest/gtest.h>

#include <thread>

#include "core/observability/access_log.hpp"
#include "core/observability/observability.hpp"
#include "core/observability/request_metrics.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/observability/observed_calls.hpp"

namespace portico::observability {
namespace {

using namespace std::chrono_literals;
using sample::Call;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

#define EXPECT_LINE(text, line) \
  EXPECT_TRUE(has_line(text, line)) << "missing: " << (line) << "\n" << (text)

struct MetricsFixture : ::testing::Test {
  sample::FakeSteadyClock steady;
  std::unique_ptr<Observability> obs;
  pipeline::Snapshot snapshot = sample::snapshot_with_tiers();
  pipeline::RouteEntry product = sample::route_entry("GET", "/v1/products/{id}");
  pipeline::RouteEntry orders = sample::route_entry("POST", "/v1/orders");

  void SetUp() override {
    ObservabilityOptions options;
    options.steady_clock = steady.clock();
    obs = std::make_unique<Observability>(options);
  }
  std::string scrape() { return obs->render_metrics(snapshot); }
};

TEST_F(MetricsFixture, KnownTrafficGivesExactRequestCounts) {
  for (int i = 0; i < 3; ++i)
    Call("GET", "/v1/products/p" + std::to_string(i), 200)
        .on(product)
        .as("ptr_a", "basic")
        .to(*obs);
  Call("GET", "/v1/products/nope", 404).on(product).as("ptr_a", "basic").to(*obs);
  for (int i = 0; i < 2; ++i)
    Call("POST", "/v1/orders", 201).on(orders).as("ptr_b", "premium").to(*obs);
  Call("POST", "/v1/orders", 429).on(orders).as("ptr_b", "premium").to(*obs);
  Call("GET", "/wp-admin", 404).to(*obs);
  Call("BREW", "/coffee", 404).to(*obs);

  std::string text = scrape();
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/products/{id}",method="GET",status="200",tier="basic"} 3)");
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/products/{id}",method="GET",status="404",tier="basic"} 1)");
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/orders",method="POST",status="201",tier="premium"} 2)");
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/orders",method="POST",status="429",tier="premium"} 1)");
  // No raw path and no invented method ever becomes a label value.
  EXPECT_LINE(
      text, R"(portico_requests_total{route="unmatched",method="GET",status="404",tier="none"} 1)");
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="unmatched",method="other",status="404",tier="none"} 1)");
  EXPECT_EQ(text.find("/wp-admin"), std::string::npos);
  EXPECT_EQ(text.find("BREW"), std::string::npos);

  EXPECT_LINE(text, R"(portico_ratelimit_rejections_total{tier="premium"} 1)");
  EXPECT_LINE(text, R"(portico_ratelimit_rejections_total{tier="basic"} 0)");
  EXPECT_LINE(text, "# TYPE portico_requests_total counter");
}

// A thread goes straight to the cell it counted last when the labels are the same: labels that
// alternate, differ only in the status, the tier or the method, and come back, each count apart.
TEST_F(MetricsFixture, AlternatingLabelsAndPartnersCountApart) {
  pipeline::RouteEntry put_product = sample::route_entry("PUT", "/v1/products/{id}");
  for (int i = 0; i < 3; ++i) {  // each call differs from the one before in one label only
    Call("GET", "/v1/products/p1", 200).on(product).as("ptr_a", "basic").to(*obs);
    Call("GET", "/v1/products/p1", 304).on(product).as("ptr_a", "basic").to(*obs);
    Call("GET", "/v1/products/p1", 304).on(product).as("ptr_b", "premium").to(*obs);
    Call("PUT", "/v1/products/p1", 304).on(put_product).as("ptr_b", "premium").to(*obs);
  }
  pipeline::RouteEntry put_order = sample::route_entry("PUT", "/v1/orders/{id}");
  Call("PUT", "/v1/orders/o1", 304).on(put_order).as("ptr_b", "premium").to(*obs);  // the route
  Call("GET", "/v1/products/p1", 200).on(product).as("ptr_a", "basic").to(*obs);
  const std::string text = scrape();
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/products/{id}",method="GET",status="200",tier="basic"} 4)");
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/products/{id}",method="GET",status="304",tier="basic"} 3)");
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/products/{id}",method="GET",status="304",tier="premium"} 3)");
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/products/{id}",method="PUT",status="304",tier="premium"} 3)");
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/orders/{id}",method="PUT",status="304",tier="premium"} 1)");

  // Partners likewise, on RequestMetrics itself (their counts feed the spike detector).
  RequestMetrics metrics;
  for (int i = 0; i < 3; ++i) {
    metrics.record_partner("ptr_a", std::nullopt);
    metrics.record_partner("ptr_a", std::nullopt);
    metrics.record_partner("ptr_b", std::nullopt);
  }
  metrics.record_partner("ptr_a", std::nullopt);
  const auto partners = metrics.partners();
  ASSERT_EQ(partners.size(), 2u);
  EXPECT_EQ(partners[0].partner, "ptr_a");
  EXPECT_EQ(partners[0].requests, 7u);
  EXPECT_EQ(partners[1].partner, "ptr_b");
  EXPECT_EQ(partners[1].requests, 3u);
}

TEST_F(MetricsFixture, HistogramBucketsAreCumulativeWithSumAndCount) {
  auto call = Call("GET", "/v1/products/p", 200).on(product).as("ptr_a", "basic");
  call.to(*obs, 50us);
  call.to(*obs, 100us);  // on the bound: le is inclusive
  call.to(*obs, 300us);
  call.to(*obs, 2ms);
  call.to(*obs, 20s);  // beyond the last bound: +Inf only
  std::string text = scrape();
  const std::string labels = R"(route="/v1/products/{id}",method="GET")";
  auto bucket = [&](const std::string& le, int n) {
    return "portico_request_duration_seconds_bucket{" + labels + ",le=\"" + le + "\"} " +
           std::to_string(n);
  };
  EXPECT_LINE(text, bucket("0.0001", 2));
  EXPECT_LINE(text, bucket("0.00025", 2));
  EXPECT_LINE(text, bucket("0.0005", 3));
  EXPECT_LINE(text, bucket("0.001", 3));
  EXPECT_LINE(text, bucket("0.0025", 4));
  EXPECT_LINE(text, bucket("10", 4));
  EXPECT_LINE(text, bucket("+Inf", 5));
  EXPECT_LINE(text, "portico_request_duration_seconds_sum{" + labels + "} 20.00245");
  EXPECT_LINE(text, "portico_request_duration_seconds_count{" + labels + "} 5");
  EXPECT_LINE(text, "# TYPE portico_request_duration_seconds histogram");
}

TEST_F(MetricsFixture, CountsFromManyThreadsAddUpExactly) {
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto call = Call("GET", "/v1/products/p", 200).on(product).as("ptr_a", "basic");
      for (int i = 0; i < kEach; ++i) call.to(*obs, 1ms);
    });
  }
  // Scrapes while the threads count must not disturb them.
  for (int i = 0; i < 20; ++i) scrape();
  for (auto& thread : threads) thread.join();
  std::string text = scrape();
  EXPECT_LINE(
      text,
      R"(portico_requests_total{route="/v1/products/{id}",method="GET",status="200",tier="basic"} 80000)");
  EXPECT_LINE(
      text,
      R"(portico_request_duration_seconds_count{route="/v1/products/{id}",method="GET"} 80000)");
  EXPECT_LINE(text,
              R"(portico_request_duration_seconds_sum{route="/v1/products/{id}",method="GET"} 80)");
}

TEST_F(MetricsFixture, UsageRatioFollowsTheLatestResponseUntilItsWindowPasses) {
  Call("GET", "/v1/products/p", 200)
      .on(product)
      .as("ptr_a", "basic")
      .quota(100, 50, 30)
      .to(*obs);
  steady.now += 1s;
  Call("GET", "/v1/products/p", 200)
      .on(product)
      .as("ptr_a", "basic")
      .quota(100, 5, 30)
      .to(*obs);
  Call("POST", "/v1/orders", 429)
      .on(orders)
      .as("ptr_b", "premium")
      .quota(1000, 0, 60)
      .to(*obs);
  std::string text = scrape();
  EXPECT_LINE(text, R"(portico_ratelimit_usage_ratio{partner="ptr_a"} 0.95)");
  EXPECT_LINE(text, R"(portico_ratelimit_usage_ratio{partner="ptr_b"} 1)");
  steady.now += 31s;  // ptr_a's window has passed, ptr_b's has not
  text = scrape();
  EXPECT_LINE(text, R"(portico_ratelimit_usage_ratio{partner="ptr_a"} 0)");
  EXPECT_LINE(text, R"(portico_ratelimit_usage_ratio{partner="ptr_b"} 1)");
}

TEST_F(MetricsFixture, AuthFailuresByReasonIncludeTheClientGuardsLockouts) {
  Call("GET", "/v1/products/p", 401).on(product).to(*obs);
  Call("GET", "/v1/products/p", 401).on(product).header("X-API-Key", "pk_live_bad").to(*obs);
  Call("GET", "/v1/products/p", 401).on(product).header("Authorization", "Bearer x").to(*obs);
  auto guard = std::make_shared<pipeline::ClientGuard>(steady.clock());
  config::SecurityConfig settings;
  settings.auth_failure_limit = 2;
  guard->record_auth_failure("203.0.113.9", settings);
  guard->record_auth_failure("203.0.113.9", settings);
  guard->admit("203.0.113.9", settings);
  snapshot.client_guard = guard;
  std::string text = scrape();
  EXPECT_LINE(text, R"(portico_auth_failures_total{reason="missing_credentials"} 1)");
  EXPECT_LINE(text, R"(portico_auth_failures_total{reason="invalid_credentials"} 2)");
  EXPECT_LINE(text, R"(portico_auth_failures_total{reason="locked_out"} 1)");
  EXPECT_LINE(text, "portico_auth_lockouts_total 1");
}

TEST_F(MetricsFixture, FixedFamiliesArePresentBeforeAnyTraffic) {
  std::string text = scrape();
  EXPECT_NE(text.find("portico_build_info{version=\"0.1.0\",plugin_api=\"3.2\"} 1"),
            std::string::npos);
  for (const char* kind : {"auth_failure_burst", "traffic_spike", "scanning"}) {
    EXPECT_LINE(text, std::string("portico_anomalies_total{kind=\"") + kind + "\"} 0");
  }
  EXPECT_LINE(text, R"(portico_webhook_deliveries_total{result="success"} 0)");
  EXPECT_LINE(text, R"(portico_webhook_deliveries_total{result="failure"} 0)");
  EXPECT_LINE(text, "portico_webhook_queue_depth 0");
  EXPECT_LINE(text, "portico_webhook_oldest_pending_seconds 0");
  EXPECT_NE(text.find("Stays 0 until webhook delivery is enabled"), std::string::npos);
  for (const char* op : {"read", "send"}) {
    EXPECT_LINE(text, std::string("portico_io_batch_calls_total{op=\"") + op + "\"} 0");
    EXPECT_LINE(text, std::string("portico_io_batched_total{op=\"") + op + "\"} 0");
  }
  EXPECT_LINE(text, "portico_io_yields_total 0");
  for (const char* name :
       {"process_resident_memory_bytes ", "process_open_fds ", "process_threads "}) {
    auto at = text.find(std::string("\n") + name);
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_GT(std::stod(text.substr(at + 1 + std::string(name).size())), 0) << name;
  }
}

TEST_F(MetricsFixture, WebhookNumbersComeFromTheirSourceOnceSet) {
  obs->set_webhook_stats([] { return WebhookStats{7, 2, 3, 12.5}; });
  std::string text = scrape();
  EXPECT_LINE(text, R"(portico_webhook_deliveries_total{result="success"} 7)");
  EXPECT_LINE(text, R"(portico_webhook_deliveries_total{result="failure"} 2)");
  EXPECT_LINE(text, "portico_webhook_queue_depth 3");
  EXPECT_LINE(text, "portico_webhook_oldest_pending_seconds 12.5");
}

TEST_F(MetricsFixture, IoLoopNumbersComeFromTheirSourceOnceSet) {
  obs->set_io_stats([] { return IoStats{4, 11, 5, 13, 6}; });
  std::string text = scrape();
  EXPECT_LINE(text, R"(portico_io_batch_calls_total{op="read"} 4)");
  EXPECT_LINE(text, R"(portico_io_batched_total{op="read"} 11)");
  EXPECT_LINE(text, R"(portico_io_batch_calls_total{op="send"} 5)");
  EXPECT_LINE(text, R"(portico_io_batched_total{op="send"} 13)");
  EXPECT_LINE(text, "portico_io_yields_total 6");
  EXPECT_NE(text.find("# TYPE portico_io_yields_total counter"), std::string::npos);
}

TEST_F(MetricsFixture, LabelValuesAreEscaped) {
  auto odd = sample::route_entry("GET", "/v1/\"quoted\"\\path");
  Call("GET", "/x", 200).on(odd).as("ptr_a", "basic").to(*obs);
  EXPECT_NE(scrape().find(R"(route="/v1/\"quoted\"\\path")"), std::string::npos);
}

// Not a pass/fail check: prints what observe() costs a request thread.
TEST_F(MetricsFixture, ReportsTheCostOfObservingARequest) {
  constexpr int kCalls = 1'000'000;
  auto call = Call("GET", "/v1/products/p", 200)
                  .on(product)
                  .as("ptr_a", "basic")
                  .quota(100, 42, 12);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) call.to(*obs, 1ms);
  auto elapsed = std::chrono::steady_clock::now() - start;
  double ns = static_cast<double>(std::chrono::nanoseconds(elapsed).count()) / kCalls;
  std::cout << "[ cost ] observe() without access log: " << ns << " ns per request\n";
  auto anonymous = Call("GET", "/v1/products/p", 200).on(product);
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) anonymous.to(*obs, 1ms);
  elapsed = std::chrono::steady_clock::now() - start;
  ns = static_cast<double>(std::chrono::nanoseconds(elapsed).count()) / kCalls;
  std::cout << "[ cost ] observe() unauthenticated, without access log: " << ns
            << " ns per request\n";

  // With the access log: the line is formatted here and queued for the logger's thread. Fewer
  // calls than the queue holds, so this is the request thread's cost, not the disk's speed.
  portico::test::TempDir dir;
  ObservabilityOptions options;
  options.log_dir = dir / "log";
  Observability logged(options);
  constexpr int kLogged = 50'000;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < kLogged; ++i) call.to(logged, 1ms);
  elapsed = std::chrono::steady_clock::now() - start;
  ns = static_cast<double>(std::chrono::nanoseconds(elapsed).count()) / kLogged;
  std::cout << "[ cost ] observe() with the access log (queued, not yet written): " << ns
            << " ns per request\n";

  AccessRecord record;
  record.time = std::chrono::system_clock::now();
  record.request_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  record.partner_id = "ptr_a";
  record.key_id = "key_1";
  record.method = "GET";
  record.route = "/v1/products/{id}";
  record.path = "/v1/products/p";
  record.status = 200;
  record.client_ip = "198.51.100.7";
  record.user_agent = "acme-sync/2.1 (linux; x86_64)";
  std::size_t total = 0;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < kLogged; ++i) total += format_access_line(record).size();
  elapsed = std::chrono::steady_clock::now() - start;
  ns = static_cast<double>(std::chrono::nanoseconds(elapsed).count()) / kLogged;
  std::cout << "[ cost ] of which formatting the line: " << ns << " ns (" << total / kLogged
            << " bytes)\n";
  SUCCEED();
}

}  // namespace
}  // namespace portico::observability

namespace portico::observability {
namespace {

// Two threads answering the same partner within one millisecond: the later answer's quota is
// the gauge's value, whichever thread's shard is read first.
TEST(RequestMetricsOrder, LatestResponseWinsWithinTheSameMillisecond) {
  auto frozen = std::chrono::steady_clock::now();
  RequestMetrics metrics([frozen] { return frozen; });
  std::thread first([&] { metrics.record_partner("ptr_1", QuotaSample{100, 99, 60}); });
  first.join();
  std::thread second([&] { metrics.record_partner("ptr_1", QuotaSample{100, 98, 60}); });
  second.join();
  auto partners = metrics.partners();
  ASSERT_EQ(partners.size(), 1u);
  EXPECT_EQ(partners[0].requests, 2u);
  EXPECT_DOUBLE_EQ(partners[0].usage_ratio, 0.02);
}

}  // namespace
}  // namespace portico::observability
