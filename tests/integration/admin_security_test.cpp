// The admin surface's defences through the real binary: wrong admin tokens lock the address out
// like failed partner authentications (429 too_many_auth_failures, Retry-After, before the token is
// compared) while the probes stay open; the health probes of both listeners answer an address over
// its per-IP limit and locked out; a lockout's anomaly line says what it counted over which window;
// `check` and `serve` refuse a short admin token on a non-loopback listener and warn on loopback;
// `serve` warns when the token is the demo fallback.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/integration/gateway_fixture.hpp"

namespace portico::test {
namespace {

using json = nlohmann::json;

constexpr const char* kRefusal =
    "configs/portico.toml admin.token: must be at least 32 characters when admin.listen "
    "(0.0.0.0:9901) is not a loopback address";

HttpResponse admin_get(const Gateway& gw, const std::string& token,
                       const std::string& path = "/admin/v1/plugins") {
  return http_request(gw.admin_port, "GET", path, {{"Authorization", "Bearer " + token}});
}

TEST(AdminLockout, WrongTokensLockTheAddressOutButNotTheProbes) {
  Gateway gw({"--set", "security.auth_failure_limit=3", "--set", "security.lockout=10m"});
  ASSERT_EQ(admin_get(gw, "test-admin-token").status, 200);
  for (int i = 0; i < 3; ++i) {
    auto wrong = admin_get(gw, "guess-" + std::to_string(i));
    ASSERT_EQ(wrong.status, 401) << wrong.body;
  }
  // Locked out: refused before the token is compared, so the right one is refused as well.
  for (const char* token : {"guess-again", "test-admin-token"}) {
    auto locked = admin_get(gw, token);
    EXPECT_EQ(locked.status, 429) << locked.body;
    EXPECT_NE(locked.header("Content-Type").value_or("").find("application/problem+json"),
              std::string::npos);
    auto problem = json::parse(locked.body);
    EXPECT_EQ(problem["code"], "too_many_auth_failures");
    ASSERT_TRUE(locked.header("Retry-After"));
    int retry = std::stoi(*locked.header("Retry-After"));
    EXPECT_GT(retry, 500);
    EXPECT_LE(retry, 600);
  }
  // A state-changing request too.
  auto post = http_request(
      gw.admin_port, "POST", "/admin/v1/partners",
      {{"Authorization", "Bearer test-admin-token"}, {"Content-Type", "application/json"}},
      R"({"name":"x","tier":"basic"})");
  EXPECT_EQ(post.status, 429);
  // The probes are never locked out (nor rate limited).
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(http_request(gw.admin_port, "GET", "/healthz").status, 200);
    ASSERT_EQ(http_request(gw.admin_port, "GET", "/readyz").status, 200);
  }
  // The same lockout as partner keys: the public listener refuses this address too.
  auto partner = gw.get("/v1/usage", {{"X-API-Key", "pk_live_" + std::string(32, 'A')}});
  EXPECT_EQ(partner.status, 429);
  EXPECT_EQ(json::parse(partner.body)["code"], "too_many_auth_failures");
  // Logged like a partner lockout.
  EXPECT_NE(gw.process->output().find("client 127.0.0.1 locked out for 600s after 3 failed"),
            std::string::npos)
      << gw.process->output();
}

TEST(AdminLockout, FailedPartnerAuthenticationsCountTowardsTheSameLockout) {
  Gateway gw({"--set", "security.auth_failure_limit=4"});
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(gw.get("/v1/usage", {{"X-API-Key", "pk_live_" + std::string(32, 'B')}}).status, 401);
  }
  for (int i = 0; i < 2; ++i) ASSERT_EQ(admin_get(gw, "nope").status, 401);
  EXPECT_EQ(admin_get(gw, "test-admin-token").status, 429);
}

TEST(HealthProbes, AnswerAnAddressOverItsLimitAndLockedOut) {
  Gateway gw({"--set", "security.client_ip_limit=20", "--set", "security.auth_failure_limit=3",
              "--set", "security.lockout=10m"});
  auto probes_answer = [&](const char* when) {
    EXPECT_EQ(gw.get("/healthz").status, 200) << when;
    EXPECT_EQ(http_request(gw.admin_port, "GET", "/healthz").status, 200) << when;
    EXPECT_EQ(http_request(gw.admin_port, "GET", "/readyz").status, 200) << when;
  };
  // Probes do not count towards the per-IP limit: three times the limit, and the address still
  // has its requests.
  for (int i = 0; i < 60; ++i) ASSERT_EQ(gw.get("/healthz").status, 200) << "probe " << i;
  int answered = 0;
  while (answered < 100 && gw.get("/v1/hello").status == 200) ++answered;
  EXPECT_GE(answered, 15);
  EXPECT_LE(answered, 20);
  // Over the limit: a normal route is refused, the probes are not.
  auto limited = gw.get("/v1/hello");
  ASSERT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(json::parse(limited.body)["code"], "rate_limited");
  probes_answer("over the per-IP limit");

  // Locked out as well (wrong admin tokens count towards the same lockout).
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(admin_get(gw, "guess-" + std::to_string(i)).status, 401);
  }
  ASSERT_EQ(admin_get(gw, "test-admin-token").status, 429);
  auto locked = gw.get("/v1/hello");
  ASSERT_EQ(locked.status, 429) << locked.body;
  EXPECT_EQ(json::parse(locked.body)["code"], "too_many_auth_failures");
  for (int i = 0; i < 20; ++i) probes_answer("locked out");
}

TEST(Anomalies, AnAuthFailureBurstLineSaysWhatWasObservedOverWhichWindow) {
  Gateway gw(
      {"--set", "security.auth_failure_limit=3", "--set", "security.auth_failure_window=2m"});
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(gw.get("/v1/usage", {{"X-API-Key", "pk_live_" + std::string(32, 'C')}}).status, 401);
  }
  // The "anomaly {json}" warning line of the error log.
  json anomaly;
  for (int wait = 0; wait < 100 && anomaly.is_null(); ++wait) {
    std::istringstream output(gw.process->output());
    for (std::string line; std::getline(output, line);) {
      auto at = line.find(" anomaly {");
      if (at == std::string::npos) continue;
      auto parsed = json::parse(line.substr(at + 9), nullptr, false);
      if (parsed.is_object() && parsed.value("kind", "") == "auth_failure_burst") anomaly = parsed;
    }
    if (anomaly.is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(anomaly.is_null()) << gw.process->output();
  const std::string line = anomaly.dump();
  EXPECT_EQ(anomaly["client_ip"], "127.0.0.1");
  EXPECT_EQ(anomaly["observed"], 3) << line;
  EXPECT_EQ(anomaly["window_seconds"], 120) << line;
  EXPECT_EQ(anomaly["detail"],
            "client 127.0.0.1 locked out for 900s after 3 failed authentications within 120s");
}

// `check` of the demo config against this build's plugins (a sanitizer build refuses others).
CommandResult check_demo(std::vector<std::string> sets) {
  std::vector<std::string> args{"check", "-c", "configs/portico.toml", "--set",
                                "plugins.dir=" + std::string(PORTICO_PLUGIN_DIR)};
  for (auto& set : sets) {
    args.push_back("--set");
    args.push_back(std::move(set));
  }
  return run_portico(args);
}

TEST(AdminToken, CheckRefusesAShortTokenOnAnOffHostListener) {
  auto result = check_demo({"admin.listen=0.0.0.0:9901", "admin.token=short-token"});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find(kRefusal), std::string::npos) << result.output;

  auto empty = check_demo({"admin.listen=0.0.0.0:9901", "admin.token=\"\""});
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_NE(empty.output.find(kRefusal), std::string::npos) << empty.output;

  auto good = check_demo({"admin.listen=0.0.0.0:9901", "admin.token=" + std::string(32, 'k')});
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_EQ(good.output.find("admin.token"), std::string::npos) << good.output;
}

TEST(AdminToken, CheckOnlyWarnsAboutAShortTokenOnLoopback) {
  auto result = check_demo({"admin.token=short-token"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("warning: configs/portico.toml admin.token: shorter than 32 "
                               "characters, accepted only because admin.listen (127.0.0.1:9901) "
                               "is a loopback address"),
            std::string::npos)
      << result.output;
}

TEST(AdminToken, ServeRefusesAShortTokenOnAnOffHostListener) {
  TempDir dir;
  std::vector<std::string> args{"serve", "-c", "configs/portico.toml"};
  for (auto& a : scratch_overrides(dir, free_port(), free_port())) args.push_back(a);
  for (std::string a : {"--set", "admin.listen=0.0.0.0:9901"}) args.push_back(a);
  auto result = run_portico(args, std::chrono::seconds(20));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find(kRefusal), std::string::npos) << result.output;
}

// The variable unset for the child processes of one test.
class WithoutEnv {
 public:
  explicit WithoutEnv(const char* name) : name_(name) {
    if (const char* value = std::getenv(name)) saved_ = value;
    ::unsetenv(name);
  }
  ~WithoutEnv() {
    if (saved_) ::setenv(name_, saved_->c_str(), 1);
  }

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

// `serve` arguments for the demo config on scratch space, with the config's own admin.token.
std::vector<std::string> demo_args_without_token(const TempDir& dir, std::uint16_t port,
                                                 std::uint16_t admin_port) {
  std::vector<std::string> args{"-c", demo_config()};
  auto overrides = scratch_overrides(dir, port, admin_port);
  for (std::size_t i = 0; i + 1 < overrides.size(); i += 2) {
    if (overrides[i + 1].rfind("admin.token=", 0) == 0) continue;
    args.push_back(overrides[i]);
    args.push_back(overrides[i + 1]);
  }
  return args;
}

TEST(AdminToken, ServeWarnsWhenTheTokenIsTheDemoFallback) {
  WithoutEnv unset("PORTICO_ADMIN_TOKEN");
  TempDir dir;
  std::uint16_t port = free_port(), admin_port = free_port();
  PorticoProcess process(demo_args_without_token(dir, port, admin_port), dir.path());
  process.wait_ready(port);
  EXPECT_NE(
      process.output().find("admin.token is the fallback 'dev-admin-token' from " + demo_config() +
                            " because PORTICO_ADMIN_TOKEN is not set; set "
                            "PORTICO_ADMIN_TOKEN for anything but a local demo"),
      std::string::npos)
      << process.output();
  // The fallback is the token in force.
  EXPECT_EQ(http_request(admin_port, "GET", "/admin/v1/plugins",
                         {{"Authorization", "Bearer dev-admin-token"}})
                .status,
            200);
}

TEST(AdminToken, ServeSaysNothingOfAFallbackWhenTheVariableIsSet) {
  TempDir dir;
  std::uint16_t port = free_port(), admin_port = free_port();
  PorticoProcess process(demo_args_without_token(dir, port, admin_port), dir.path(),
                         {"PORTICO_ADMIN_TOKEN=" + std::string(40, 't')});
  process.wait_ready(port);
  EXPECT_EQ(process.output().find("is the fallback"), std::string::npos) << process.output();
  EXPECT_EQ(http_request(admin_port, "GET", "/admin/v1/plugins",
                         {{"Authorization", "Bearer " + std::string(40, 't')}})
                .status,
            200);
}

}  // namespace
}  // namespace portico::test
