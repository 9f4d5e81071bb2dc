// Live reconfiguration on the real binary: plugin versions follow reloads under continuous load
// without a failed request or a dropped keep-alive connection, memory stays flat over 100
// reloads, a broken config changes nothing, a reload to the running config keeps its generation
// (and a changed value or plugin file is named), routes come and go with their plugin's table, and
// rate-limit counts carry over.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/products_helpers.hpp"
#include "tests/integration/reload_helpers.hpp"

namespace portico::test::reload {
namespace {

// Keep-alive clients hammering GET /v1/hello until stopped; every answer is checked.
class HelloLoad {
 public:
  HelloLoad(std::uint16_t port, int clients) {
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, port] { run(port); });
    }
  }
  ~HelloLoad() { stop(); }
  void stop() {
    stopping_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  std::atomic<long> ok{0};
  std::atomic<long> failed{0};
  std::atomic<long> reconnects{0};
  std::mutex mutex;
  std::set<std::string> versions;
  std::vector<std::string> failures;

 private:
  void run(std::uint16_t port) {
    auto connection = std::make_unique<HttpConnection>("127.0.0.1", port);
    long bounded = 0;
    while (!stopping_ && ++bounded < 2'000'000) {
      try {
        auto res = connection->request("GET", "/v1/hello");
        auto body = json::parse(res.body);
        if (res.status != 200 || body.value("plugin", "") != "hello") {
          throw std::runtime_error(std::to_string(res.status) + " " + res.body);
        }
        ok.fetch_add(1);
        std::lock_guard lock(mutex);
        versions.insert(body.value("version", ""));
      } catch (const std::exception& e) {
        failed.fetch_add(1);
        {
          std::lock_guard lock(mutex);
          if (failures.size() < 10) failures.emplace_back(e.what());
        }
        reconnects.fetch_add(1);
        connection = std::make_unique<HttpConnection>("127.0.0.1", port);
      }
    }
  }

  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

TEST(Reload, VersionsFollowReloadsUnderLoadWithoutAFailedRequest) {
  ReloadGateway gw;
  install(fixture("hello-1.0.0.so"), gw.plugins_dir() / "hello-1.0.0.so");
  install(fixture("hello-1.1.0.so"), gw.plugins_dir() / "hello-1.1.0.so");
  gw.write_config(hello_pinned("~1.0"));
  gw.start();
  ASSERT_EQ(gw.hello_version(), "1.0.0");

  HelloLoad load(gw.port, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 1; i <= 20; ++i) {
    const bool newer = i % 2 == 1;
    gw.write_config(hello_pinned(newer ? "^1.1" : "~1.0", newer ? "howdy" : "hi"));
    if (i % 4 == 3) {
      // SIGHUP reloads in the background: wait until the new generation is in force.
      const auto before = gw.generation();
      gw.process->signal(SIGHUP);
      for (int wait = 0; wait < 200 && gw.generation() == before; ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      ASSERT_EQ(gw.generation(), before + 1) << "SIGHUP reload " << i;
    } else {
      auto result = gw.reload();
      ASSERT_TRUE(result["changed"].get<bool>()) << result.dump();
    }
    EXPECT_EQ(gw.hello_version(), newer ? "1.1.0" : "1.0.0") << "after reload " << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  load.stop();
  RecordProperty("requests_during_reloads", std::to_string(load.ok.load()));

  EXPECT_EQ(load.failed.load(), 0) << (load.failures.empty() ? "" : load.failures.front());
  EXPECT_EQ(load.reconnects.load(), 0) << "keep-alive connections survive every reload";
  EXPECT_GT(load.ok.load(), 1000);
  EXPECT_EQ(load.versions, (std::set<std::string>{"1.0.0", "1.1.0"}));
  EXPECT_EQ(gw.generation(), 21u);
}

TEST(Reload, AFileRebuiltUnderTheSamePathRunsItsNewCode) {
  ReloadGateway gw;
  install(fixture("hello-1.0.0.so"), gw.plugins_dir() / "hello.so");
  gw.write_config("[plugins.hello]\n");
  gw.start();
  ASSERT_EQ(gw.hello_version(), "1.0.0");
  install(fixture("hello-1.1.0.so"), gw.plugins_dir() / "hello.so");
  auto result = gw.reload();
  EXPECT_EQ(result["generation"], 2);
  EXPECT_EQ(result["changes"], json::array({"plugin upgraded: hello 1.0.0 → 1.1.0 (" +
                                            (gw.plugins_dir() / "hello.so").string() + ")"}));
  EXPECT_EQ(gw.hello_version(), "1.1.0");

  auto after = json::parse(gw.admin("GET", "/plugins").body)["data"];
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0]["version"], "1.1.0");
  EXPECT_EQ(after[0]["api_version"], "3.2");
  EXPECT_EQ(after[0]["kinds"], json::array({"routes"}));
  EXPECT_NE(after[0]["loaded_at"], nullptr);

  // Reloading an unchanged config keeps every instance as it is.
  result = gw.reload();
  EXPECT_EQ(result["changed"], false);
  EXPECT_EQ(json::parse(gw.admin("GET", "/plugins").body)["data"][0]["loaded_at"],
            after[0]["loaded_at"]);
}

TEST(Reload, MemoryStaysFlatAcrossAHundredReloads) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer keeps freed memory in quarantine, so RSS says nothing here";
#endif
  ReloadGateway gw;
  install(fixture("hello-1.0.0.so"), gw.plugins_dir() / "hello-1.0.0.so");
  install(fixture("hello-1.1.0.so"), gw.plugins_dir() / "hello-1.1.0.so");
  gw.write_config(hello_pinned("~1.0"));
  gw.start();
  auto cycle = [&](int i) {
    gw.write_config(hello_pinned(i % 2 ? "^1.1" : "~1.0"));
    gw.reload();
    ASSERT_EQ(gw.hello_version(), i % 2 ? "1.1.0" : "1.0.0");
  };
  for (int i = 1; i <= 10; ++i) cycle(i);  // allocator and caches warmed up
  const long warm = gw.rss_kib();
  for (int i = 11; i <= 100; ++i) cycle(i);
  const long after = gw.rss_kib();
  RecordProperty("rss_kib_after_10", std::to_string(warm));
  RecordProperty("rss_kib_after_100", std::to_string(after));
  EXPECT_LT(after - warm, 8 * 1024)
      << "RSS " << warm << " KiB after 10 reloads, " << after << " KiB after 100";
}

TEST(Reload, ABrokenConfigChangesNothing) {
  ReloadGateway gw;
  install(fixture("hello-1.0.0.so"), gw.plugins_dir() / "hello-1.0.0.so");
  gw.write_config(hello_pinned("^1"));
  gw.start();

  auto refused = [&](const std::string& config, const std::string& expected) {
    std::ofstream(gw.config_file(), std::ios::trunc) << config;
    auto res = gw.admin("POST", "/reload");
    EXPECT_EQ(res.status, 422) << res.body;
    auto problem = json::parse(res.body);
    EXPECT_EQ(problem["code"], "reload_refused");
    EXPECT_NE(problem["detail"].get<std::string>().find("generation 1"), std::string::npos);
    bool named = false;
    for (const auto& e : problem["errors"]) {
      named = named || e["message"].get<std::string>().find(expected) != std::string::npos;
    }
    EXPECT_TRUE(named) << "expected '" << expected << "' in " << res.body;
    EXPECT_EQ(gw.generation(), 1u);
    EXPECT_EQ(gw.hello_version(), "1.0.0");
  };
  const std::string good = [&] {
    gw.write_config(hello_pinned("^1"));
    return read_file(gw.config_file());
  }();
  refused(good + "greting = \"typo\"\n",
          "plugins.hello.greting: unknown key (did you mean 'greeting'?)");
  refused(good + "[server\n", "portico.toml:");
  refused(
      [&] {
        gw.write_config(hello_pinned("^2"));
        return read_file(gw.config_file());
      }(),
      "no version of 'hello'");
  refused(good + "[plugins.not_there]\n", "plugins.not_there");
  std::string restart = good;
  restart.replace(restart.find("[logging]\n"), 10, "[logging]\nretention_days = 7\n");
  refused(restart, "logging.retention_days: needs a restart to change (running with 90");

  // The CLI reports the same refusal and exits 2; SIGHUP logs it and keeps running.
  auto cli = run_portico({"reload", "--admin", "http://127.0.0.1:" + std::to_string(gw.admin_port)},
                         std::chrono::seconds(30), {"PORTICO_ADMIN_TOKEN=test-admin-token"});
  EXPECT_EQ(cli.exit_code, 2) << cli.output;
  EXPECT_NE(cli.output.find("needs a restart"), std::string::npos) << cli.output;
  gw.process->signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(gw.process->running());
  EXPECT_NE(gw.process->output().find("reload refused, nothing changed"), std::string::npos);
  EXPECT_EQ(gw.generation(), 1u);

  // Fixed again: the CLI reload goes through, to the config running since start-up (the
  // generation stays).
  std::ofstream(gw.config_file(), std::ios::trunc) << good;
  cli = run_portico({"reload", "--admin", "http://127.0.0.1:" + std::to_string(gw.admin_port)},
                    std::chrono::seconds(30), {"PORTICO_ADMIN_TOKEN=test-admin-token"});
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("reloaded: generation 1, nothing changed"), std::string::npos)
      << cli.output;
}

TEST(Reload, TheSameConfigKeepsTheGenerationAndAChangeIsNamed) {
  ReloadGateway gw;
  const fs::path hello = gw.plugins_dir() / "hello.so";
  install(fixture("hello-1.0.0.so"), hello);
  gw.write_config("[plugins.hello]\ngreeting = \"hi\"\n");
  gw.start();
  ASSERT_EQ(gw.generation(), 1u);
  const auto loaded_at = json::parse(gw.admin("GET", "/plugins").body)["data"][0]["loaded_at"];
  auto unchanged = [&](std::uint64_t generation) {
    auto result = gw.reload();
    EXPECT_EQ(result["generation"], generation) << result.dump();
    EXPECT_EQ(result["changed"], false) << result.dump();
    EXPECT_EQ(result["changes"], json::array()) << result.dump();
    EXPECT_EQ(result["message"], "Nothing changed: the gateway keeps running generation " +
                                     std::to_string(generation) + ".");
    EXPECT_EQ(gw.generation(), generation);
  };

  // Twice with the config it runs (written again, byte for byte): the generation stays.
  unchanged(1);
  gw.write_config("[plugins.hello]\ngreeting = \"hi\"\n");
  unchanged(1);
  EXPECT_EQ(json::parse(gw.admin("GET", "/plugins").body)["data"][0]["loaded_at"], loaded_at);
  // SIGHUP too, and the log says so.
  gw.process->signal(SIGHUP);
  const std::string said = "reload: nothing changed, generation 1 stays in force";
  for (int wait = 0; wait < 200 && gw.process->output().find(said) == std::string::npos; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(gw.process->output().find(said), std::string::npos) << gw.process->output();
  EXPECT_EQ(gw.generation(), 1u);

  // A changed value: the next generation, and each change named.
  gw.write_config("[plugins.hello]\ngreeting = \"howdy\"\n",
                  "[tiers.gold]\nlimit = 7\nwindow = \"1m\"\n");
  auto result = gw.reload();
  EXPECT_EQ(result["generation"], 2);
  EXPECT_EQ(result["changed"], true);
  EXPECT_EQ(result["changes"], json::array({"tiers.gold: added (7 per 1m)",
                                            "plugin settings changed: hello (new instance)"}));
  EXPECT_EQ(result["message"], "Reloaded: generation 2 is in force (2 changes).");
  unchanged(2);

  // The same config with a new plugin file on disk is a change: a newer version, then the same
  // version installed again (a new file under the same name).
  install(fixture("hello-1.1.0.so"), hello);
  result = gw.reload();
  EXPECT_EQ(result["generation"], 3);
  EXPECT_EQ(result["changes"],
            json::array({"plugin upgraded: hello 1.0.0 → 1.1.0 (" + hello.string() + ")"}));
  EXPECT_EQ(gw.hello_version(), "1.1.0");
  install(fixture("hello-1.1.0.so"), hello);
  result = gw.reload();
  EXPECT_EQ(result["generation"], 4);
  EXPECT_EQ(result["changes"],
            json::array({"plugin reloaded from a new file: hello 1.1.0 (" + hello.string() + ")"}));
  unchanged(4);
}

TEST(Reload, ARoutePluginComesAndGoesWithItsTable) {
  ReloadGateway gw;
  install(fixture("hello-1.0.0.so"), gw.plugins_dir() / "hello.so");
  gw.write_config("[plugins.hello]\n");
  gw.start();
  ASSERT_EQ(http_request(gw.port, "GET", "/v1/hello").status, 200);

  gw.write_config("[plugins.hello]\nenabled = false\n");
  auto result = gw.reload();
  EXPECT_EQ(result["changes"], json::array({"plugin removed: hello 1.0.0 (" +
                                            (gw.plugins_dir() / "hello.so").string() + ")"}));
  auto gone = http_request(gw.port, "GET", "/v1/hello");
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_EQ(json::parse(gone.body)["code"], "not_found");

  gw.write_config("");
  EXPECT_EQ(gw.reload()["changed"], false);
  EXPECT_EQ(http_request(gw.port, "GET", "/v1/hello").status, 404);

  gw.write_config("[plugins.hello]\ngreeting = \"back\"\n");
  result = gw.reload();
  EXPECT_EQ(result["changes"][0].get<std::string>().rfind("plugin added: hello 1.0.0", 0), 0u);
  auto back = http_request(gw.port, "GET", "/v1/hello");
  EXPECT_EQ(back.status, 200);
  EXPECT_EQ(json::parse(back.body)["message"], "back");
}

TEST(Reload, RateLimitCountsCarryOverToANewPolicy) {
  ReloadGateway gw;
  const std::string auth = "[plugins.auth_api_key]\n";
  gw.write_config(auth + "[plugins.ratelimit_sliding_window]\n");
  gw.start();
  products::Admin admin{gw.admin_port};
  const std::string key = admin.key(admin.partner("basic"));
  auto remaining = [&]() -> std::string {
    auto res = http_request(gw.port, "GET", "/v1/usage", {{"X-API-Key", key}});
    if (res.status == 429) return "429";
    EXPECT_EQ(res.status, 200) << res.body;
    return res.header("X-RateLimit-Remaining").value_or("?");
  };
  EXPECT_EQ(remaining(), "4");
  EXPECT_EQ(remaining(), "3");
  EXPECT_EQ(remaining(), "2");

  // New settings: a new instance of the same policy, which takes the counts over.
  gw.write_config(auth + "[plugins.ratelimit_sliding_window]\nmax_keys = 5000\n");
  auto result = gw.reload();
  EXPECT_NE(result.dump().find("rate-limit counts of 1 key(s) handed to the new policy"),
            std::string::npos)
      << result.dump();
  EXPECT_EQ(remaining(), "1");

  // Another algorithm: the token bucket replays the sliding window's hits.
  gw.write_config(auth + "[plugins.ratelimit_token_bucket]\n");
  gw.reload();
  EXPECT_EQ(remaining(), "0");
  EXPECT_EQ(remaining(), "429") << "a reload never grants fresh quota";
}

TEST(Reload, PendingWebhookRetriesCarryOnWithTheNewDeliveryService) {
  ReloadGateway gw;
  const std::string webhooks =
      "[plugins.auth_api_key]\n[plugins.routes_webhooks]\nallow_private_targets = true\n";
  gw.write_config(webhooks + "[plugins.webhook_delivery]\nallow_private_targets = true\n");
  gw.start();
  products::Admin admin{gw.admin_port};
  const std::string key = admin.key(admin.partner("premium"));
  // An endpoint nobody listens on: every attempt fails and is retried on the schedule (+5 s).
  const std::string url = "http://127.0.0.1:" + std::to_string(free_port()) + "/hooks";
  auto created = http_request(gw.port, "POST", "/v1/webhooks",
                              {{"X-API-Key", key}, {"Content-Type", "application/json"}},
                              json{{"url", url}, {"events", {"*"}}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string endpoint = json::parse(created.body)["id"];
  ASSERT_EQ(
      http_request(gw.port, "POST", "/v1/webhooks/" + endpoint + "/test", {{"X-API-Key", key}})
          .status,
      202);
  auto attempts = [&] {
    return std::stoi(
        products::query_db(gw.dir / "portico.db", "SELECT count(*) FROM webhook_attempts")[0][0]);
  };
  for (int wait = 0; wait < 100 && attempts() < 1; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(attempts(), 1);

  // New settings: a new instance of the delivery service replaces the old one.
  gw.write_config(webhooks +
                  "[plugins.webhook_delivery]\nallow_private_targets = true\n"
                  "max_in_flight_per_endpoint = 4\n");
  auto result = gw.reload();
  EXPECT_NE(result.dump().find("plugin settings changed: webhook_delivery (new instance)"),
            std::string::npos)
      << result.dump();
  // The retry the old service scheduled is made by the new one, from the database.
  for (int wait = 0; wait < 200 && attempts() < 2; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(attempts(), 2);
  auto state =
      products::query_db(gw.dir / "portico.db", "SELECT state, attempts FROM webhook_deliveries");
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0][0], "pending") << "still queued for its next retry";

  // The same story in /metrics, read from the delivery tables.
  auto metrics = gw.admin_get("/metrics").body;
  EXPECT_NE(metrics.find("\nportico_webhook_deliveries_total{result=\"failure\"} 2\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("\nportico_webhook_deliveries_total{result=\"success\"} 0\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("\nportico_webhook_queue_depth 1\n"), std::string::npos);
  EXPECT_EQ(metrics.find("\nportico_webhook_oldest_pending_seconds 0\n"), std::string::npos)
      << "the pending delivery is several seconds old";
}

}  // namespace
}  // namespace portico::test::reload
