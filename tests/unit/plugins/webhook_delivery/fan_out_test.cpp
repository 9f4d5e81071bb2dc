// Fan-out: which endpoints an outbox event becomes delivery rows for, and that the position in
// the outbox is kept with the rows (a new engine never fans an event out twice).
#include <gtest/gtest.h>

#include "plugins/webhook_delivery/delivery_settings.hpp"
#include "tests/support/counting_database.hpp"
#include "tests/unit/plugins/webhook_delivery/delivery_fixture.hpp"

namespace portico::webhook_delivery::testbed {
namespace {

class FanOutTest : public DeliveryTest {
 protected:
  std::vector<std::string> targets_of(const std::string& event_id) {
    std::vector<std::string> ids;
    for (const auto& row : db_->query(
             "SELECT endpoint_id FROM webhook_deliveries WHERE event_id = ? ORDER BY endpoint_id",
             {event_id})) {
      ids.push_back(row.text(0));
    }
    return ids;
  }
  static std::vector<std::string> sorted(std::vector<std::string> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  static constexpr const char* kUrl = "https://hooks.example.com/in";
};

TEST_F(FanOutTest, PartnerEventsGoToThatPartnersMatchingEndpoints) {
  auto orders = add_endpoint(EndpointSpec().url(kUrl).events({"order.*"}));
  auto everything = add_endpoint(EndpointSpec().url(kUrl).events({"*"}));
  auto exact = add_endpoint(EndpointSpec().url(kUrl).events({"order.shipped"}));
  auto inventory = add_endpoint(EndpointSpec().url(kUrl).events({"inventory.changed"}));
  auto other_partner = add_endpoint(EndpointSpec().partner("ptn_2").url(kUrl).events({"*"}));
  DeliveryEngine engine(host_, settings());

  const auto created = emit("order.created", "ptn_1", "ord_1");
  const auto shipped = emit("order.shipped", "ptn_1", "ord_1");
  EXPECT_EQ(engine.fan_out_once(), 2u);
  EXPECT_EQ(targets_of(created), sorted({orders.id, everything.id}));
  EXPECT_EQ(targets_of(shipped), sorted({orders.id, everything.id, exact.id}));
  (void)inventory;
  (void)other_partner;

  auto rows = db_->query(
      "SELECT state, attempts, next_attempt_at, ordering_key, event_sequence FROM"
      " webhook_deliveries WHERE event_id = ? AND endpoint_id = ?",
      {shipped, exact.id});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text(0), "pending");
  EXPECT_EQ(rows[0].integer(1), 0);
  EXPECT_EQ(rows[0].integer(2), now_ms());
  EXPECT_EQ(rows[0].text(3), "ord_1");
  EXPECT_EQ(rows[0].integer(4), outbox_->find(shipped)->sequence);
}

TEST_F(FanOutTest, CatalogEventsGoToEveryPartnersMatchingEndpoints) {
  auto first =
      add_endpoint(EndpointSpec().partner("ptn_1").url(kUrl).events({"inventory.changed"}));
  auto second = add_endpoint(EndpointSpec().partner("ptn_2").url(kUrl).events({"*"}));
  add_endpoint(EndpointSpec().partner("ptn_3").url(kUrl).events({"order.*"}));
  DeliveryEngine engine(host_, settings());

  const auto event = emit("inventory.changed", "", "prod_1");
  engine.fan_out_once();
  EXPECT_EQ(targets_of(event), sorted({first.id, second.id}));
}

TEST_F(FanOutTest, SkipsDisabledEndpointsAndEventsFromBeforeAnEndpointExisted) {
  auto disabled = add_endpoint(EndpointSpec().url(kUrl));
  db_->execute("UPDATE webhook_endpoints SET status = 'disabled' WHERE id = ?", {disabled.id});
  const auto before = emit("order.created", "ptn_1", "ord_1");
  host_.advance(1500ms);
  auto late = add_endpoint(EndpointSpec().url(kUrl));
  // Same second as the endpoint's creation: the event (whole seconds) still counts.
  const auto same_second = emit("order.created", "ptn_1", "ord_2");
  DeliveryEngine engine(host_, settings());
  engine.fan_out_once();
  EXPECT_TRUE(targets_of(before).empty());
  EXPECT_EQ(targets_of(same_second), std::vector<std::string>{late.id});
}

TEST_F(FanOutTest, ATestEventGoesOnlyToTheEndpointItNames) {
  auto tested = add_endpoint(EndpointSpec().url(kUrl).events({"inventory.changed"}));
  add_endpoint(EndpointSpec().url(kUrl).events({"*"}));
  add_endpoint(EndpointSpec().partner("ptn_2").url(kUrl).events({"*"}));
  DeliveryEngine engine(host_, settings());

  const auto event = emit("webhook.test", "ptn_1", tested.id);
  const auto foreign = emit("webhook.test", "ptn_2", tested.id);  // not ptn_2's endpoint
  engine.fan_out_once();
  EXPECT_EQ(targets_of(event), std::vector<std::string>{tested.id});
  EXPECT_TRUE(targets_of(foreign).empty());
}

TEST_F(FanOutTest, EndpointDisabledGoesToThePartnersOtherEndpointsWhateverTheirFilters) {
  auto subject = add_endpoint(EndpointSpec().url(kUrl));
  auto sibling = add_endpoint(EndpointSpec().url(kUrl).events({"inventory.changed"}));
  add_endpoint(EndpointSpec().partner("ptn_2").url(kUrl).events({"*"}));
  DeliveryEngine engine(host_, settings());

  const auto event = emit("webhook.endpoint_disabled", "ptn_1", subject.id);
  engine.fan_out_once();
  EXPECT_EQ(targets_of(event), std::vector<std::string>{sibling.id});
}

TEST_F(FanOutTest, IgnoresEventTypesThatAreNotWebhookEvents) {
  add_endpoint(EndpointSpec().url(kUrl).events({"*"}));
  DeliveryEngine engine(host_, settings());
  const auto event = emit("partner.key_rotated", "ptn_1", "key_1");
  EXPECT_EQ(engine.fan_out_once(), 1u);
  EXPECT_TRUE(targets_of(event).empty());
}

TEST_F(FanOutTest, ThePositionIsKeptWithTheRows) {
  add_endpoint(EndpointSpec().url(kUrl));
  for (int i = 0; i < 7; ++i) emit("order.created", "ptn_1", "ord_" + std::to_string(i));
  auto small = settings();
  small.fan_out_batch = 3;
  {
    DeliveryEngine engine(host_, small);
    EXPECT_EQ(engine.fan_out_once(), 3u);
    EXPECT_EQ(engine.fan_out_once(), 3u);
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM webhook_deliveries"), 6);
  DeliveryEngine restarted(host_, small);
  EXPECT_EQ(restarted.fan_out_once(), 1u);
  EXPECT_EQ(restarted.fan_out_once(), 0u);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM webhook_deliveries"), 7);
  EXPECT_EQ(scalar("SELECT COUNT(DISTINCT event_id) FROM webhook_deliveries"), 7);
  EXPECT_EQ(scalar("SELECT value FROM webhook_delivery_state WHERE name = 'outbox_position'"),
            outbox_->read_after(0, 100).back().sequence);
}

TEST_F(FanOutTest, AnotherInstanceMovingThePositionAbortsTheBatch) {
  add_endpoint(EndpointSpec().url(kUrl));
  emit("order.created", "ptn_1", "ord_1");
  DeliveryEngine engine(host_, settings());
  EXPECT_EQ(engine.fan_out_once(), 1u);
  emit("order.created", "ptn_1", "ord_2");
  // Someone else fanned the second event out meanwhile.
  db_->execute("UPDATE webhook_delivery_state SET value = value + 1");
  EXPECT_EQ(engine.fan_out_once(), 0u);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM webhook_deliveries"), 1);
  EXPECT_EQ(engine.fan_out_once(), 0u);  // reloaded: nothing after the new position
}

TEST(DeliveryPlugin, RefusesToStartWithoutTheWebhookTables) {
  portico::test::TempDir dir;
  auto db = storage::open_sqlite({(dir / "portico.db").string()});
  storage::apply_migrations(*db, "core", storage::core_migrations());
  storage::apply_migrations(*db, "webhook_delivery", delivery_migrations());
  try {
    require_webhook_tables(*db);
    FAIL() << "no refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("enable [plugins.routes_webhooks] too"), std::string::npos)
        << e.what();
  }
  sdk::testing::FakeHost host("webhook_delivery", nlohmann::json::object());
  host.use_database(db);
  EXPECT_THROW(DeliveryEngine(host, DeliverySettings{}), std::runtime_error);
}

TEST(DeliveryPlugin, ReadsItsConfigTable) {
  auto defaults = settings_from_config(nlohmann::json::object());
  EXPECT_FALSE(defaults.allow_private_targets);
  EXPECT_EQ(defaults.max_in_flight_per_endpoint, 8);
  EXPECT_EQ(defaults.poll_interval, std::chrono::milliseconds(100));
  EXPECT_EQ(defaults.client_threads, 1);
  EXPECT_FALSE(defaults.ca_file);
  auto set = settings_from_config({{"allow_private_targets", true},
                                   {"max_in_flight_per_endpoint", 2},
                                   {"ca_file", "/etc/ca.pem"},
                                   {"poll_interval", 250},
                                   {"client_threads", 3}});
  EXPECT_TRUE(set.allow_private_targets);
  EXPECT_EQ(set.max_in_flight_per_endpoint, 2);
  EXPECT_EQ(set.ca_file, "/etc/ca.pem");
  EXPECT_EQ(set.poll_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(set.client_threads, 3);
}

// Idle, the engine's rounds (10 a second for the life of the process) ask the database nothing:
// the outbox is read again, and a sweep's lists of endpoints and lease owners, once something was
// written — by this process or another (Database::write_generation()).
TEST_F(FanOutTest, IdleRoundsAskTheDatabaseNothingUntilSomethingIsWritten) {
  auto counting = std::make_shared<test::CountingDatabase>(db_);
  host_.use_database(counting);
  host_.use_outbox(std::make_shared<storage::SqlOutbox>(counting, [this] { return host_.now(); }));
  auto every_round_sweeps = settings();
  every_round_sweeps.sweep_interval = 0ms;
  DeliveryEngine engine(host_, every_round_sweeps);
  engine.step();
  EXPECT_GE(counting->queries, 3) << "the position, the outbox, the endpoints and lease owners";
  counting->queries = 0;
  for (int i = 0; i < 20; ++i) engine.step();
  EXPECT_EQ(counting->queries, 0);

  // Written meanwhile: the next round reads the outbox and fans the event out.
  add_endpoint(EndpointSpec().url(kUrl));
  const auto event = emit("order.created", "ptn_1", "ord_1");
  EXPECT_EQ(engine.fan_out_once(), 1u);
  EXPECT_EQ(targets_of(event).size(), 1u);
  EXPECT_EQ(engine.fan_out_once(), 0u);
  const int after = counting->queries;
  EXPECT_EQ(engine.fan_out_once(), 0u);
  EXPECT_EQ(counting->queries, after) << "its own fan-out was a write: looked at once, then idle";
}

}  // namespace
}  // namespace portico::webhook_delivery::testbed
