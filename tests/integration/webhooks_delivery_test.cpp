// Webhook delivery through the real binary, end to end: an endpoint on a loopback receiver gets a
// webhook.test event; the gateway is killed with SIGKILL while that request is on the wire (the
// receiver never answers it), restarted on the same database, and the event still arrives (same
// webhook-id, at least once) and is recorded as a successful attempt.
//
// The receiver (webhook_receiver.hpp) records what arrives; the signature is checked for its form
// here, byte for byte in webhooks_secrets_test.cpp and the unit tests of webhook_delivery.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/gateway_fixture.hpp"
#include "tests/integration/products_helpers.hpp"
#include "tests/integration/webhook_receiver.hpp"

namespace portico::test::webhooks_delivery {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using Clock = std::chrono::steady_clock;
using products::Admin;

using receiver::Received;
using receiver::Receiver;

HttpResponse call(Gateway& gw, const std::string& key, const std::string& method,
                  const std::string& target, const std::optional<json>& body = std::nullopt) {
  Headers headers{{"X-API-Key", key}};
  if (body) headers.emplace_back("Content-Type", "application/json");
  return http_request(gw.port, method, target, headers, body ? body->dump() : std::string());
}

std::size_t count_with_id(const std::vector<Received>& requests, const std::string& id) {
  return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(),
                                                [&](const Received& r) { return r.id == id; }));
}

void expect_well_formed(const Received& r, const std::string& event_id) {
  EXPECT_EQ(r.target, "/hook");
  EXPECT_EQ(r.id, event_id);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_FALSE(r.timestamp.empty());
  EXPECT_TRUE(!r.timestamp.empty() &&
              std::all_of(r.timestamp.begin(), r.timestamp.end(),
                          [](unsigned char c) { return std::isdigit(c) != 0; }))
      << r.timestamp;
  if (!r.timestamp.empty()) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const long long ts = std::stoll(r.timestamp);
    EXPECT_LE(std::llabs(now - ts), 60) << r.timestamp;
  }
  // Form only (no libsodium here): "v1,<base64 of 32 bytes>" first.
  EXPECT_TRUE(r.signature.starts_with("v1,")) << r.signature;
  const std::string first_sig = r.signature.substr(0, r.signature.find(' '));
  EXPECT_EQ(first_sig.size(), 3u + 44u) << r.signature;
  json body = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body.value("id", ""), event_id);
  EXPECT_EQ(body.value("type", ""), "webhook.test");
}

TEST(WebhookDelivery, Kill9MidDeliveryThenRestartTheEventStillArrives) {
  const auto started = Clock::now();
  Receiver receiver;
  Gateway gw({"--set", "security.client_ip_limit=1000000000", "--set",
              "plugins.routes_webhooks.allow_private_targets=true", "--set",
              "plugins.webhook_delivery.allow_private_targets=true", "--set",
              "plugins.webhook_delivery.poll_interval=20ms"});
  Admin admin{gw.admin_port};

  auto res =
      admin.call("POST", "/partners",
                 {{"name", "Hook Shop"}, {"tier", "premium"}, {"rate_limit_override", 1000000000}});
  ASSERT_EQ(res.status, 201) << res.body;
  const std::string partner_id = json::parse(res.body)["id"];
  res = admin.call("POST", "/partners/" + partner_id + "/keys", json::object());
  ASSERT_EQ(res.status, 201) << res.body;
  const std::string key = json::parse(res.body)["key"];

  const std::string url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook";
  res = call(gw, key, "POST", "/v1/webhooks", json{{"url", url}, {"events", {"*"}}});
  ASSERT_EQ(res.status, 201) << res.body;
  const json endpoint = json::parse(res.body);
  const std::string endpoint_id = endpoint["id"];
  const std::string secret = endpoint["secret"];
  EXPECT_TRUE(secret.starts_with("whsec_")) << secret;

  // The test event goes out; the receiver takes it and never answers.
  receiver.set_hang(true);
  res = call(gw, key, "POST", "/v1/webhooks/" + endpoint_id + "/test");
  ASSERT_EQ(res.status, 202) << res.body;
  const std::string event_id = json::parse(res.body).value("event_id", "");
  ASSERT_FALSE(event_id.empty()) << res.body;

  ASSERT_TRUE(receiver.wait_for(
      [&](const std::vector<Received>& rs) { return count_with_id(rs, event_id) >= 1; },
      std::chrono::seconds(5)))
      << "the event did not reach the receiver within 5 s; gateway output:\n"
      << gw.process->output();
  const auto before_kill = receiver.requests();
  ASSERT_EQ(before_kill.size(), 1u);
  expect_well_formed(before_kill[0], event_id);

  // Kill -9 while that request is on the wire.
  gw.process->signal(SIGKILL);
  EXPECT_EQ(gw.process->wait_exit(std::chrono::seconds(5)), 128 + SIGKILL);
  EXPECT_EQ(receiver.answered_200(), 0);

  // The receiver recovers; the gateway comes back on the same database.
  receiver.set_hang(false);
  gw.restart();

  ASSERT_TRUE(receiver.wait_for(
      [&](const std::vector<Received>& rs) { return count_with_id(rs, event_id) >= 2; },
      std::chrono::seconds(10)))
      << "the event was not redelivered within 10 s of the restart; gateway output:\n"
      << gw.process->output();
  const auto after_restart = receiver.requests();
  ASSERT_GE(after_restart.size(), 2u);
  expect_well_formed(after_restart[1], event_id);
  EXPECT_EQ(after_restart[1].body, before_kill[0].body) << "the payload bytes changed";
  for (const auto& r : after_restart) EXPECT_EQ(r.id, event_id) << "an unexpected event arrived";

  // The attempt log records the success (results are committed in batches: poll a little).
  json success;
  json log;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    res = call(gw, key, "GET", "/v1/webhooks/" + endpoint_id + "/deliveries?event_id=" + event_id);
    ASSERT_EQ(res.status, 200) << res.body;
    log = json::parse(res.body);
    for (const auto& attempt : log["data"]) {
      if (attempt["status_code"] == 200) success = attempt;
    }
    if (!success.is_null()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(success.is_null()) << "no successful attempt recorded: " << log.dump();
  EXPECT_EQ(success["event_id"], event_id);
  EXPECT_EQ(success["event_type"], "webhook.test");
  EXPECT_TRUE(success["error"].is_null()) << success.dump();
  EXPECT_EQ(success["delivery_state"], "succeeded") << success.dump();
  EXPECT_GE(receiver.answered_200(), 1);

  std::cout << "[ info     ] " << after_restart.size() << " requests received, "
            << log["data"].size() << " attempts logged, in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
            << " ms\n";
}

}  // namespace
}  // namespace portico::test::webhooks_delivery
