// Each detector fires on synthetic abnormal traffic and stays silent on a steady normal load.
#include "core/observability/anomaly_detector.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/observability/observability.hpp"
#include "core/pipeline/client_guard.hpp"
#include "tests/unit/observability/observed_calls.hpp"

namespace portico::observability {
namespace {

using namespace std::chrono_literals;

struct Detectors : ::testing::Test {
  sample::FakeSteadyClock steady;
  std::vector<Anomaly> found;
  DetectorSettings settings;
  std::unique_ptr<AnomalyDetectors> detectors;

  void SetUp() override { make(); }
  void make() {
    detectors = std::make_unique<AnomalyDetectors>(
        settings, steady.clock(), [this](const Anomaly& a) { found.push_back(a); });
  }
  // One spike interval of `n` requests for `partner`, cumulative as the metrics report them.
  std::map<std::string, std::uint64_t> totals;
  void interval(const std::map<std::string, std::uint64_t>& sent) {
    for (const auto& [partner, n] : sent) totals[partner] += n;
    std::vector<std::pair<std::string, std::uint64_t>> cumulative(totals.begin(), totals.end());
    detectors->on_interval(cumulative);
    steady.now += settings.spike_interval;
  }
};

// --- scanning ----------------------------------------------------------------------------------

TEST_F(Detectors, ScanningFiresOnceWhenOneIpCollectsManyNotFoundsInAWindow) {
  for (int i = 0; i < 99; ++i) {
    detectors->on_response("203.0.113.50", 404);
    steady.now += 100ms;
  }
  EXPECT_TRUE(found.empty());
  detectors->on_response("203.0.113.50", 401);  // 401s count too: the 100th within 10 s
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, AnomalyKind::scanning);
  EXPECT_EQ(found[0].client_ip, "203.0.113.50");
  EXPECT_EQ(found[0].observed, 100u);
  for (int i = 0; i < 200; ++i) detectors->on_response("203.0.113.50", 404);
  EXPECT_EQ(found.size(), 1u) << "one finding per IP per cooldown";
  EXPECT_EQ(detectors->count(AnomalyKind::scanning), 1u);
}

TEST_F(Detectors, ScanningStaysSilentOnSteadyNormalLoad) {
  // 20 clients, each with a 404 or 401 every two seconds (30 a minute) and plenty of 200s,
  // for an hour.
  for (int second = 0; second < 3600; ++second) {
    for (int client = 0; client < 20; ++client) {
      std::string ip = "198.51.100." + std::to_string(client);
      detectors->on_response(ip, 200);
      detectors->on_response(ip, 200);
      if ((second + client) % 2 == 0) detectors->on_response(ip, client % 2 ? 404 : 401);
    }
    steady.now += 1s;
  }
  EXPECT_TRUE(found.empty());
  EXPECT_EQ(detectors->count(AnomalyKind::scanning), 0u);
}

TEST_F(Detectors, OtherStatusesNeverCountAsScanning) {
  for (int i = 0; i < 1000; ++i) {
    detectors->on_response("203.0.113.50", 403);
    detectors->on_response("203.0.113.50", 429);
    detectors->on_response("203.0.113.50", 500);
  }
  EXPECT_TRUE(found.empty());
}

// --- traffic spike -----------------------------------------------------------------------------

TEST_F(Detectors, SpikeFiresWhenAPartnerJumpsAboveFiveTimesItsTrailingRate) {
  for (int i = 0; i < 40; ++i) interval({{"ptr_a", 50}});
  EXPECT_TRUE(found.empty());
  interval({{"ptr_a", 400}});  // 8x the trailing 50 per interval
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, AnomalyKind::traffic_spike);
  EXPECT_EQ(found[0].partner_id, "ptr_a");
  EXPECT_EQ(found[0].observed, 400u);
  EXPECT_DOUBLE_EQ(found[0].baseline, 50.0);
  interval({{"ptr_a", 400}});
  EXPECT_EQ(found.size(), 1u) << "not again within the cooldown";
  EXPECT_EQ(detectors->count(AnomalyKind::traffic_spike), 1u);
}

TEST_F(Detectors, SpikeStaysSilentOnSteadyAndGrowingLoad) {
  // Busy partners with ±30 % noise, and one whose traffic doubles over an hour.
  for (int i = 0; i < 360; ++i) {
    std::uint64_t noisy = 1000 + static_cast<std::uint64_t>((i * 7919) % 600) - 300;
    std::uint64_t growing = 200 + static_cast<std::uint64_t>(i) * 200 / 360;
    interval({{"ptr_busy", noisy}, {"ptr_growing", growing}, {"ptr_idle", 0}});
  }
  EXPECT_TRUE(found.empty());
}

TEST_F(Detectors, SpikeNeedsAMinimumVolumeSoQuietPartnersDoNotFire) {
  for (int i = 0; i < 40; ++i) interval({{"ptr_quiet", 2}});
  interval({{"ptr_quiet", 60}});  // 30x, but only 60 requests
  EXPECT_TRUE(found.empty());
}

TEST_F(Detectors, SpikeWaitsForAFullHistory) {
  interval({{"ptr_new", 5000}});  // first sight: what it sent so far is no interval
  for (int i = 0; i < 10; ++i) interval({{"ptr_new", 10}});
  interval({{"ptr_new", 5000}});  // history not yet full (30 intervals)
  EXPECT_TRUE(found.empty());
}

// --- auth-failure burst ------------------------------------------------------------------------

// What runtime.cpp wires: the guard's lockout, its figures, to the detector.
void forward(AnomalyDetectors& detectors, const pipeline::Lockout& lockout) {
  detectors.on_lockout(lockout.client_ip, static_cast<std::uint64_t>(lockout.failures),
                       std::chrono::ceil<std::chrono::seconds>(lockout.window), lockout.message);
}

TEST_F(Detectors, TheClientGuardsLockoutIsAnAuthFailureBurstForThatIp) {
  pipeline::ClientGuard guard(steady.clock(),
                              [this](const pipeline::Lockout& l) { forward(*detectors, l); });
  config::SecurityConfig security;
  security.auth_failure_limit = 5;
  for (int i = 0; i < 4; ++i) guard.record_auth_failure("203.0.113.9", security);
  EXPECT_TRUE(found.empty());
  guard.record_auth_failure("203.0.113.9", security);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, AnomalyKind::auth_failure_burst);
  EXPECT_EQ(found[0].client_ip, "203.0.113.9");
  EXPECT_EQ(found[0].observed, 5u);
  EXPECT_EQ(found[0].window, 60s);
  EXPECT_NE(found[0].detail.find("locked out"), std::string::npos);
}

TEST_F(Detectors, ScatteredAuthFailuresBelowTheLimitAreNoBurst) {
  pipeline::ClientGuard guard(steady.clock(),
                              [this](const pipeline::Lockout& l) { forward(*detectors, l); });
  config::SecurityConfig security;  // 20 per minute
  for (int minute = 0; minute < 60; ++minute) {
    for (int i = 0; i < 5; ++i) guard.record_auth_failure("198.51.100.1", security);
    steady.now += 1min;
  }
  EXPECT_TRUE(found.empty());
}

// --- through Observability: counter, structured warning line ------------------------------------

TEST(ObservabilityAnomalies, AFindingIsCountedAndLoggedAsOneJsonWarningLine) {
  sample::FakeSteadyClock steady;
  std::vector<std::string> warnings;
  ObservabilityOptions options;
  options.steady_clock = steady.clock();
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  options.detectors.scan_threshold = 10;
  Observability obs(options);
  for (int i = 0; i < 10; ++i) sample::Call("GET", "/admin.php", 404).from("203.0.113.77").to(obs);
  ASSERT_EQ(warnings.size(), 1u);
  ASSERT_EQ(warnings[0].rfind("anomaly ", 0), 0u) << warnings[0];
  auto line = nlohmann::json::parse(warnings[0].substr(8));
  EXPECT_EQ(line["event"], "anomaly");
  EXPECT_EQ(line["kind"], "scanning");
  EXPECT_EQ(line["client_ip"], "203.0.113.77");
  EXPECT_EQ(line["observed"], 10);
  EXPECT_EQ(line["window_seconds"], 60);
  auto text = obs.render_metrics(sample::snapshot_with_tiers());
  EXPECT_NE(text.find("\nportico_anomalies_total{kind=\"scanning\"} 1\n"), std::string::npos);
}

TEST(ObservabilityAnomalies, ALockoutIsLoggedWithTheFailuresItCountedAndTheirWindow) {
  // As runtime.cpp builds it: the guard's lockout goes to Observability::on_lockout.
  sample::FakeSteadyClock steady;
  std::vector<std::string> warnings;
  ObservabilityOptions options;
  options.steady_clock = steady.clock();
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  Observability obs(options);
  pipeline::ClientGuard guard(steady.clock(),
                              [&obs](const pipeline::Lockout& l) { obs.on_lockout(l); });
  config::SecurityConfig security;
  security.auth_failure_limit = 7;
  security.auth_failure_window = 90s;
  for (int i = 0; i < 7; ++i) {
    guard.record_auth_failure("203.0.113.9", security);
    steady.now += 1s;
  }
  ASSERT_EQ(warnings.size(), 1u);
  ASSERT_EQ(warnings[0].rfind("anomaly ", 0), 0u) << warnings[0];
  auto line = nlohmann::json::parse(warnings[0].substr(8));
  EXPECT_EQ(line["kind"], "auth_failure_burst");
  EXPECT_EQ(line["client_ip"], "203.0.113.9");
  EXPECT_EQ(line["observed"], 7) << warnings[0];
  EXPECT_EQ(line["window_seconds"], 90) << warnings[0];
  EXPECT_EQ(line["detail"],
            "client 203.0.113.9 locked out for 900s after 7 failed authentications within 90s");
  EXPECT_EQ(obs.detectors().count(AnomalyKind::auth_failure_burst), 1u);
}

TEST(ObservabilityAnomalies, HousekeepingFeedsTheSpikeDetectorFromRequestCounts) {
  sample::FakeSteadyClock steady;
  std::vector<std::string> warnings;
  ObservabilityOptions options;
  options.steady_clock = steady.clock();
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  Observability obs(options);
  auto route = sample::route_entry("GET", "/v1/products");
  auto call = sample::Call("GET", "/v1/products", 200).on(route).as("ptr_a", "basic");
  for (int i = 0; i < 35; ++i) {
    for (int n = 0; n < 20; ++n) call.to(obs);
    steady.now += 10s;
    obs.housekeeping();
  }
  EXPECT_TRUE(warnings.empty());
  for (int n = 0; n < 500; ++n) call.to(obs);
  steady.now += 10s;
  obs.housekeeping();
  ASSERT_EQ(warnings.size(), 1u);
  auto line = nlohmann::json::parse(warnings[0].substr(8));
  EXPECT_EQ(line["kind"], "traffic_spike");
  EXPECT_EQ(line["partner_id"], "ptr_a");
  EXPECT_EQ(line["observed"], 500);
  EXPECT_EQ(obs.detectors().count(AnomalyKind::traffic_spike), 1u);
}

}  // namespace
}  // namespace portico::observability
