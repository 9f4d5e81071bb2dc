// What one delivery attempt puts on the wire, and where it may go: the payload with the spec's
// headers and signatures (symmetric and Ed25519), a rotated secret signing beside the new one
// until it expires, a redirect that is not followed, and the SSRF guard at delivery time. Against
// a real loopback receiver that verifies signatures.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/plugins/webhook_delivery/delivery_fixture.hpp"
#include "webhooks_common/target_guard.hpp"

namespace portico::webhook_delivery::testbed {
namespace {

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

TEST_F(DeliveryTest, SendsThePayloadSignedWithTheSpecHeaders) {
  VerifyingReceiver receiver;
  auto endpoint = add_endpoint(receiver, "/hooks", EndpointSpec().ed25519());
  const auto event_id = emit("order.created", "ptn_1", "ord_1", {{"id", "ord_1"}});
  DeliveryEngine engine(host_, settings());

  EXPECT_EQ(engine.fan_out_once(), 1u);
  EXPECT_EQ(engine.dispatch_once(), 1u);
  ASSERT_TRUE(engine.wait_idle(10s));

  ASSERT_EQ(receiver.count(), 1u);
  EXPECT_EQ(receiver.rejected(), 0);
  const auto request = receiver.requests().front();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/hooks");
  EXPECT_EQ(request.body, outbox_->find(event_id)->payload);  // the exact stored bytes
  EXPECT_EQ(request.header("Content-Type"), "application/json");
  EXPECT_EQ(request.header("webhook-id"), event_id);
  EXPECT_EQ(request.header("webhook-timestamp"), std::to_string(unix_seconds(host_.now())));
  const auto signatures = split(request.header("webhook-signature").value_or(""));
  ASSERT_EQ(signatures.size(), 2u);
  EXPECT_TRUE(signatures[0].starts_with("v1,"));
  EXPECT_TRUE(signatures[1].starts_with("v1a,"));
  const auto timestamp = *request.header("webhook-timestamp");
  EXPECT_TRUE(
      webhooks::verify(signatures[0], {endpoint.secret}, {}, event_id, timestamp, request.body));
  EXPECT_TRUE(webhooks::verify(signatures[1], {}, {endpoint.public_key}, event_id, timestamp,
                               request.body));

  auto row = delivery(event_id, endpoint.id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, "succeeded");
  EXPECT_EQ(row->attempts, 1);
  EXPECT_EQ(row->last_status, 200);
  EXPECT_FALSE(row->last_error);
  auto log = attempts(endpoint.id);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].integer("attempt"), 1);
  EXPECT_EQ(log[0].text("at"), sdk::format_timestamp(host_.now()));
  EXPECT_EQ(log[0].integer("status_code"), 200);
  EXPECT_TRUE(log[0].is_null("error"));
}

TEST_F(DeliveryTest, ARedirectIsAFailureAndIsNotFollowed) {
  VerifyingReceiver receiver;
  receiver.script([&](const ReceivedRequest&) {
    return reply(302, {{"Location", receiver.url("/elsewhere")}});
  });
  auto endpoint = add_endpoint(receiver, "/hooks");
  const auto event_id = emit("order.created", "ptn_1", "ord_1");
  DeliveryEngine engine(host_, settings());
  drain(engine);

  EXPECT_EQ(receiver.count(), 1u);
  auto row = delivery(event_id, endpoint.id);
  EXPECT_EQ(row->state, "pending");
  EXPECT_EQ(row->last_status, 302);
  auto log = attempts(endpoint.id);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].integer("status_code"), 302);
  EXPECT_NE(log[0].text("error").find("redirects are not followed"), std::string::npos);
}

TEST_F(DeliveryTest, ARotatedSecretSignsAlongsideTheNewOneUntilItExpires) {
  VerifyingReceiver receiver;
  auto endpoint = add_endpoint(receiver, "/hooks", EndpointSpec().rotating());
  const auto first = emit("order.created", "ptn_1", "ord_1");
  DeliveryEngine engine(host_, settings());
  drain(engine);

  ASSERT_EQ(receiver.count(), 1u);
  auto request = receiver.requests().front();
  const auto signatures = split(*request.header("webhook-signature"));
  ASSERT_EQ(signatures.size(), 2u);
  const auto timestamp = *request.header("webhook-timestamp");
  // The first signs with the new secret, the second with the old one; each verifies alone.
  EXPECT_TRUE(
      webhooks::verify(signatures[0], {endpoint.secret}, {}, first, timestamp, request.body));
  EXPECT_TRUE(webhooks::verify(signatures[1], {endpoint.previous_secret}, {}, first, timestamp,
                               request.body));
  EXPECT_FALSE(webhooks::verify(signatures[0], {endpoint.previous_secret}, {}, first, timestamp,
                                request.body));

  host_.advance(24h + 1s);
  const auto second = emit("order.created", "ptn_1", "ord_2");
  drain(engine);
  ASSERT_EQ(receiver.count(), 2u);
  request = receiver.requests().back();
  EXPECT_EQ(request.header("webhook-id"), second);
  EXPECT_EQ(split(*request.header("webhook-signature")).size(), 1u);
  EXPECT_EQ(receiver.rejected(), 0);
}

TEST_F(DeliveryTest, RefusesLoopbackTargetsAtDeliveryTimeUnlessAllowed) {
  VerifyingReceiver receiver;
  auto literal = add_endpoint(receiver, "/literal");
  auto named = add_endpoint(
      EndpointSpec().url("http://localhost:" + std::to_string(receiver.port()) + "/named"));
  const auto event_id = emit("order.created", "ptn_1", "ord_1");
  DeliveryEngine engine(host_, settings(/*allow_private=*/false));
  drain(engine);

  EXPECT_EQ(receiver.count(), 0u);
  for (const auto* endpoint : {&literal, &named}) {
    auto row = delivery(event_id, endpoint->id);
    EXPECT_EQ(row->state, "pending");
    EXPECT_EQ(row->attempts, 1);
    auto log = attempts(endpoint->id);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_TRUE(log[0].is_null("status_code"));
    // The partner reads this error (GET /v1/webhooks/{id}/deliveries): nothing about addresses
    // or the operator's settings.
    const auto error = log[0].text("error");
    EXPECT_EQ(error, webhooks::kPartnerRefusedAtDelivery);
    for (const char* leak : {"127.0.0.1", "localhost", "loopback", "allow_private_targets"}) {
      EXPECT_EQ(error.find(leak), std::string::npos) << leak << " in: " << error;
    }
  }
  // The operator log has the detail, per endpoint.
  std::vector<std::string> warnings;
  for (const auto& [level, line] : host_.recorded_log().lines) {
    if (level == LogLevel::warn) warnings.push_back(line);
  }
  for (const auto* endpoint : {&literal, &named}) {
    const auto found = std::find_if(warnings.begin(), warnings.end(), [&](const std::string& w) {
      return w.find(endpoint->id) != std::string::npos;
    });
    ASSERT_NE(found, warnings.end()) << endpoint->id;
    EXPECT_NE(found->find("127.0.0.1"), std::string::npos) << *found;
    EXPECT_NE(found->find("loopback"), std::string::npos) << *found;
    EXPECT_NE(found->find("allow_private_targets"), std::string::npos) << *found;
  }

  // The same rows with private targets allowed.
  DeliveryEngine allowed(host_, settings(/*allow_private=*/true));
  host_.advance(5s);
  drain(allowed);
  EXPECT_EQ(delivery(event_id, literal.id)->state, "succeeded");
}

}  // namespace
}  // namespace portico::webhook_delivery::testbed
