// Webhook secrets at rest (webhooks_common/secrets_at_rest.hpp) with the delivery engine: sealed
// rows sign, plain rows from before are sealed at start and still sign, a data key rotation
// re-seals everything under the new key, and a value that does not open fails only its endpoint
// (logged by id, never sent unsigned, never the value in a log or an attempt).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

#include "portico/sdk/secret_box.hpp"
#include "tests/unit/plugins/webhook_delivery/delivery_fixture.hpp"
#include "webhooks_common/secrets_at_rest.hpp"

namespace portico::webhook_delivery::testbed {
namespace {

// The FakeHost's world (database, outbox, clock, log) with another data key set-up: what the core
// gives a plugin after the operator rotated security.data_key, or without any data key.
class KeyedHost final : public Host {
 public:
  KeyedHost(Host& inner, std::optional<sdk::SecretBox> box) : inner_(inner), box_(std::move(box)) {}

  const std::string& plugin_name() const override { return inner_.plugin_name(); }
  const nlohmann::json& config() const override { return inner_.config(); }
  Database& database() override { return inner_.database(); }
  Outbox& outbox() override { return inner_.outbox(); }
  Log& log() override { return inner_.log(); }
  CredentialDirectory& credentials() override { return inner_.credentials(); }
  std::chrono::system_clock::time_point now() const override { return inner_.now(); }
  std::string seal_secret(std::string_view plaintext) override { return box().seal(plaintext); }
  std::string open_secret(std::string_view sealed) override { return box().open(sealed); }
  bool sealed_with_current_key(std::string_view stored) const override {
    return box_ && box_->sealed_with_current_key(stored);
  }
  Executor& workers() override { return inner_.workers(); }

 private:
  const sdk::SecretBox& box() const {
    if (!box_) {
      throw std::runtime_error(
          "no data key is configured (security.data_key or PORTICO_DATA_KEY): secrets cannot be "
          "sealed or opened");
    }
    return *box_;
  }
  Host& inner_;
  std::optional<sdk::SecretBox> box_;
};

const std::string kFakeHostKey(32, 'k');  // sdk::testing::FakeHost seals under this
const std::string kNewKey(32, 'n');
const std::string kUnknownKey(32, 'u');

class SecretsAtRestTest : public DeliveryTest {
 protected:
  std::vector<std::string> stored_secrets(const std::string& id) {
    const Row row =
        db_->query(
               "SELECT secret, previous_secret, signing_key FROM webhook_endpoints WHERE id = ?",
               {id})
            .front();
    std::vector<std::string> values;
    for (std::size_t i = 0; i < 3; ++i) {
      if (auto value = row.optional_text(i)) values.push_back(*value);
    }
    return values;
  }
  std::vector<std::string> log_lines(LogLevel level) {
    std::vector<std::string> lines;
    for (const auto& [at, line] : host_.recorded_log().lines) {
      if (at == level) lines.push_back(line);
    }
    return lines;
  }
};

TEST_F(SecretsAtRestTest, SealedRowsSignAndHoldNoSecret) {
  VerifyingReceiver receiver;
  auto endpoint = add_endpoint(receiver, "/hooks", EndpointSpec().ed25519().rotating());
  for (const auto& value : stored_secrets(endpoint.id)) {
    EXPECT_TRUE(host_.sealed_with_current_key(value)) << value;
    EXPECT_EQ(value.find("whsec_"), std::string::npos);
    EXPECT_EQ(value.find("whsk_"), std::string::npos);
    EXPECT_EQ(value.find(endpoint.secret.substr(6)), std::string::npos);
  }
  emit("order.created", "ptn_1", "ord_1");
  DeliveryEngine engine(host_, settings());
  drain(engine);
  ASSERT_EQ(receiver.count(), 1u);
  EXPECT_EQ(receiver.rejected(), 0);
  // v1 with the secret, v1 with the previous one, v1a.
  const auto header = receiver.requests().front().header("webhook-signature").value_or("");
  EXPECT_EQ(std::count(header.begin(), header.end(), ' '), 2) << header;
}

TEST_F(SecretsAtRestTest, PlainRowsFromBeforeAreSealedAtStartAndStillSign) {
  VerifyingReceiver receiver;
  auto endpoint =
      add_endpoint(receiver, "/old", EndpointSpec().ed25519().rotating(), /*seal=*/false);
  const std::string updated_at =
      db_->query("SELECT updated_at FROM webhook_endpoints WHERE id = ?", {endpoint.id})
          .front()
          .text(0);
  // Before the re-seal, the engine still signs with what it finds.
  emit("order.created", "ptn_1", "ord_1");
  {
    DeliveryEngine engine(host_, settings());
    drain(engine);
  }
  EXPECT_EQ(receiver.count(), 1u);

  const webhooks::ResealReport report = webhooks::reseal_endpoint_secrets(host_);
  EXPECT_EQ(report.resealed, 3);
  EXPECT_TRUE(report.unreadable.empty());
  const auto values = stored_secrets(endpoint.id);
  ASSERT_EQ(values.size(), 3u);
  for (const auto& value : values) EXPECT_TRUE(host_.sealed_with_current_key(value)) << value;
  EXPECT_EQ(host_.open_secret(values[0]), endpoint.secret);
  EXPECT_EQ(host_.open_secret(values[1]), endpoint.previous_secret);
  EXPECT_TRUE(host_.open_secret(values[2]).starts_with("whsk_"));
  // Nothing changed for the partner.
  EXPECT_EQ(db_->query("SELECT updated_at FROM webhook_endpoints WHERE id = ?", {endpoint.id})
                .front()
                .text(0),
            updated_at);
  EXPECT_EQ(webhooks::reseal_endpoint_secrets(host_).resealed, 0);  // idempotent

  host_.advance(1s);
  emit("order.created", "ptn_1", "ord_2");
  DeliveryEngine engine(host_, settings());
  drain(engine);
  EXPECT_EQ(receiver.count(), 2u);
  EXPECT_EQ(receiver.rejected(), 0);
}

TEST_F(SecretsAtRestTest, ADataKeyRotationResealsUnderTheNewKey) {
  VerifyingReceiver receiver;
  auto endpoint = add_endpoint(receiver, "/hooks", EndpointSpec().ed25519().rotating());
  // The operator moved the old key to previous_data_keys and set a new data_key.
  KeyedHost rotated(host_, sdk::SecretBox(kNewKey, {kFakeHostKey}));
  for (const auto& value : stored_secrets(endpoint.id)) {
    EXPECT_FALSE(rotated.sealed_with_current_key(value));
  }
  EXPECT_EQ(webhooks::reseal_endpoint_secrets(rotated).resealed, 3);
  const std::string new_prefix = "sealed:v1:" + sdk::SecretBox::key_id(kNewKey) + ":";
  for (const auto& value : stored_secrets(endpoint.id)) {
    EXPECT_TRUE(value.starts_with(new_prefix)) << value;
  }
  // The old key can be dropped now.
  KeyedHost new_key_only(host_, sdk::SecretBox(kNewKey));
  emit("order.created", "ptn_1", "ord_1");
  DeliveryEngine engine(new_key_only, settings());
  drain(engine);
  ASSERT_EQ(receiver.count(), 1u);
  EXPECT_EQ(receiver.rejected(), 0);
}

TEST_F(SecretsAtRestTest, AValueThatDoesNotOpenFailsOnlyItsEndpoint) {
  VerifyingReceiver receiver;
  auto broken = add_endpoint(receiver, "/broken");
  auto fine = add_endpoint(receiver, "/fine");
  // Sealed under a key this gateway does not have (say, a data key dropped too early).
  const std::string unreadable = sdk::SecretBox(kUnknownKey).seal(broken.secret);
  db_->execute("UPDATE webhook_endpoints SET secret = ? WHERE id = ?", {unreadable, broken.id});

  const webhooks::ResealReport report = webhooks::reseal_endpoint_secrets(host_);
  EXPECT_EQ(report.resealed, 0);
  EXPECT_EQ(report.unreadable, std::vector<std::string>{broken.id});
  EXPECT_EQ(stored_secrets(broken.id).front(), unreadable);  // left as it is

  const auto event_id = emit("order.created", "ptn_1", "ord_1");
  DeliveryEngine engine(host_, settings());
  drain(engine);
  // The other endpoint is served; the broken one gets nothing — above all nothing unsigned.
  EXPECT_EQ(receiver.requests_to("/fine").size(), 1u);
  EXPECT_EQ(receiver.requests_to("/broken").size(), 0u);
  EXPECT_EQ(delivery(event_id, fine.id)->state, "succeeded");
  auto row = delivery(event_id, broken.id);
  EXPECT_EQ(row->state, "pending");  // retried: restoring the key lets it through
  EXPECT_EQ(row->attempts, 1);
  const std::string error = attempts(broken.id)[0].text("error");
  EXPECT_NE(error.find("signing secret"), std::string::npos) << error;

  // Retried later, still failing: logged once per endpoint, by id, never a secret.
  host_.advance(10s);
  drain(engine);
  EXPECT_EQ(delivery(event_id, broken.id)->attempts, 2);
  int about_broken = 0;
  for (const auto& line : log_lines(LogLevel::error)) {
    EXPECT_EQ(line.find(broken.secret.substr(6)), std::string::npos) << line;
    EXPECT_EQ(line.find(unreadable.substr(20)), std::string::npos) << line;
    if (line.find(broken.id) != std::string::npos) ++about_broken;
  }
  EXPECT_EQ(about_broken, 2);  // the start-up re-seal, then the engine once

  // The operator restores the key as a previous one: the retry goes out signed.
  KeyedHost restored(host_, sdk::SecretBox(kFakeHostKey, {kUnknownKey}));
  EXPECT_EQ(webhooks::reseal_endpoint_secrets(restored).resealed, 1);
  DeliveryEngine after(host_, settings());
  host_.advance(10min);
  drain(after);
  EXPECT_EQ(delivery(event_id, broken.id)->state, "succeeded");
  EXPECT_EQ(receiver.rejected(), 0);
}

TEST_F(SecretsAtRestTest, WithoutADataKeyThePluginsDoNotStart) {
  KeyedHost no_key(host_, std::nullopt);
  try {
    webhooks::require_data_key(no_key);
    FAIL() << "started without a data key";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("security.data_key"), std::string::npos) << what;
    EXPECT_NE(what.find("PORTICO_DATA_KEY"), std::string::npos) << what;
  }
  EXPECT_NO_THROW(webhooks::require_data_key(host_));
}

}  // namespace
}  // namespace portico::webhook_delivery::testbed
