// The delivery engine against a real loopback receiver that verifies signatures: retries on the
// injected clock, 410, Retry-After, per-order ordering, a slow endpoint beside a fast one,
// auto-disable after 5 days, resuming after a restart, and leases renewed while a send is on the
// wire. (What an attempt sends, signing and the SSRF guard: request_test.cpp.)
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/unit/plugins/webhook_delivery/delivery_fixture.hpp"
#include "webhooks_common/retry_schedule.hpp"

namespace portico::webhook_delivery::testbed {
namespace {

TEST_F(DeliveryTest, RetriesAServerErrorWhenTheFirstDelayHasPassedAndNotBefore) {
  VerifyingReceiver receiver;
  std::atomic<int> calls{0};
  receiver.script([&](const ReceivedRequest&) { return reply(++calls == 1 ? 500 : 200); });
  auto endpoint = add_endpoint(receiver, "/hooks");
  const auto event_id = emit("order.created", "ptn_1", "ord_1");
  DeliveryEngine engine(host_, settings());

  engine.fan_out_once();
  EXPECT_EQ(engine.dispatch_once(), 1u);
  ASSERT_TRUE(engine.wait_idle(10s));
  auto row = delivery(event_id, endpoint.id);
  EXPECT_EQ(row->state, "pending");
  EXPECT_EQ(row->attempts, 1);
  EXPECT_EQ(row->last_status, 500);
  EXPECT_EQ(row->next_attempt_at, now_ms() + 5000);  // 5 s, jitter pinned to the middle
  EXPECT_FALSE(endpoint_row(endpoint.id).is_null("failing_since"));

  host_.advance(4999ms);
  EXPECT_EQ(engine.dispatch_once(), 0u);
  EXPECT_EQ(receiver.count(), 1u);
  host_.advance(1ms);
  EXPECT_EQ(engine.dispatch_once(), 1u);
  ASSERT_TRUE(engine.wait_idle(10s));

  row = delivery(event_id, endpoint.id);
  EXPECT_EQ(row->state, "succeeded");
  EXPECT_EQ(row->attempts, 2);
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("webhook-id"), requests[1].header("webhook-id"));
  EXPECT_EQ(std::stoll(*requests[1].header("webhook-timestamp")) -
                std::stoll(*requests[0].header("webhook-timestamp")),
            5);
  auto log = attempts(endpoint.id);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].integer("status_code"), 500);
  EXPECT_EQ(log[0].text("error"), "the endpoint answered 500");
  EXPECT_EQ(log[1].integer("attempt"), 2);
  EXPECT_EQ(log[1].integer("status_code"), 200);
  EXPECT_TRUE(endpoint_row(endpoint.id).is_null("failing_since"));
  EXPECT_EQ(receiver.rejected(), 0);
}

TEST_F(DeliveryTest, GoneDisablesTheEndpoint) {
  VerifyingReceiver receiver;
  receiver.script([](const ReceivedRequest&) { return reply(410); });
  auto endpoint = add_endpoint(receiver, "/hooks");
  const auto first = emit("order.created", "ptn_1", "ord_1");
  DeliveryEngine engine(host_, settings());
  drain(engine);

  auto row = delivery(first, endpoint.id);
  EXPECT_EQ(row->state, "failed");
  EXPECT_EQ(row->last_status, 410);
  auto status = endpoint_row(endpoint.id);
  EXPECT_EQ(status.text("status"), "disabled");
  EXPECT_EQ(status.text("disabled_reason"), "the endpoint answered 410 Gone");

  const auto second = emit("order.created", "ptn_1", "ord_2");
  drain(engine);
  EXPECT_FALSE(delivery(second, endpoint.id));
  EXPECT_EQ(receiver.count(), 1u);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM outbox_events WHERE type = 'webhook.endpoint_disabled'"),
            0);
}

TEST_F(DeliveryTest, AReceiverThatStaysDownGetsTheScheduleThenTheEventFails) {
  const auto port = portico::test::free_port();
  auto endpoint =
      add_endpoint(EndpointSpec().url("http://127.0.0.1:" + std::to_string(port) + "/hooks"));
  const auto event_id = emit("order.shipped", "ptn_1", "ord_1");
  DeliveryEngine engine(host_, settings());
  engine.fan_out_once();

  for (int attempt = 1; attempt <= webhooks::kMaxAttempts; ++attempt) {
    ASSERT_EQ(engine.dispatch_once(), 1u) << "attempt " << attempt;
    ASSERT_TRUE(engine.wait_idle(10s));
    auto row = delivery(event_id, endpoint.id);
    EXPECT_EQ(row->attempts, attempt);
    EXPECT_FALSE(row->last_status);
    if (attempt == webhooks::kMaxAttempts) {
      EXPECT_EQ(row->state, "failed");
      break;
    }
    EXPECT_EQ(row->state, "pending");
    const auto wait = std::chrono::milliseconds(row->next_attempt_at - now_ms());
    EXPECT_EQ(wait, webhooks::kRetrySchedule[static_cast<std::size_t>(attempt - 1)]);
    host_.advance(wait - 1ms);
    EXPECT_EQ(engine.dispatch_once(), 0u) << "too early for attempt " << attempt + 1;
    host_.advance(1ms);
  }
  host_.advance(48h);
  EXPECT_EQ(engine.dispatch_once(), 0u);

  auto log = attempts(endpoint.id);
  ASSERT_EQ(log.size(), static_cast<std::size_t>(webhooks::kMaxAttempts));
  for (const auto& entry : log) {
    EXPECT_TRUE(entry.is_null("status_code"));
    EXPECT_NE(entry.text("error").find("cannot connect"), std::string::npos) << entry.text("error");
  }
  // About 3 days 4 hours of failures: not yet the 5 days that disable an endpoint.
  auto status = endpoint_row(endpoint.id);
  EXPECT_EQ(status.text("status"), "enabled");
  EXPECT_FALSE(status.is_null("failing_since"));
}

TEST_F(DeliveryTest, HonoursRetryAfter) {
  VerifyingReceiver receiver;
  std::atomic<int> calls{0};
  receiver.script([&](const ReceivedRequest&) {
    return ++calls == 1 ? reply(503, {{"Retry-After", "120"}}) : reply(204);
  });
  auto endpoint = add_endpoint(receiver, "/hooks");
  const auto event_id = emit("inventory.changed", "", "prod_1");
  DeliveryEngine engine(host_, settings());
  drain(engine);

  auto row = delivery(event_id, endpoint.id);
  EXPECT_EQ(row->state, "pending");
  EXPECT_EQ(row->next_attempt_at, now_ms() + 120'000);  // later than the scheduled 5 s
  host_.advance(119'999ms);
  EXPECT_EQ(engine.dispatch_once(), 0u);
  host_.advance(1ms);
  EXPECT_EQ(engine.dispatch_once(), 1u);
  ASSERT_TRUE(engine.wait_idle(10s));
  EXPECT_EQ(delivery(event_id, endpoint.id)->state, "succeeded");
}

TEST_F(DeliveryTest, EventsOfOneOrderGoOutInOrderWhileTheFirstIsRetried) {
  VerifyingReceiver receiver;
  std::string first_a;
  std::atomic<bool> failed_once{false};
  receiver.script([&](const ReceivedRequest& r) {
    if (r.header("webhook-id") == first_a && !failed_once.exchange(true)) return reply(500);
    return reply(200);
  });
  auto endpoint = add_endpoint(receiver, "/hooks");
  first_a = emit("order.created", "ptn_1", "ord_A");
  const auto second_a = emit("order.status_changed", "ptn_1", "ord_A");
  const auto other = emit("order.created", "ptn_1", "ord_B");
  const auto third_a = emit("order.shipped", "ptn_1", "ord_A");
  DeliveryEngine engine(host_, settings());
  drain(engine);

  auto ids = [&] {
    std::vector<std::string> seen;
    for (const auto& r : receiver.requests()) seen.push_back(*r.header("webhook-id"));
    return seen;
  };
  // ord_A's first event failed; its later events wait, ord_B's does not.
  auto first_round = ids();
  std::sort(first_round.begin(), first_round.end());
  auto expected = std::vector<std::string>{first_a, other};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(first_round, expected);
  EXPECT_EQ(delivery(second_a, endpoint.id)->state, "pending");
  EXPECT_EQ(delivery(third_a, endpoint.id)->attempts, 0);
  host_.advance(4s);
  EXPECT_EQ(drain(engine), 0u);

  host_.advance(1s);
  drain(engine);
  auto all = ids();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(all.begin() + 2, all.end()),
            (std::vector<std::string>{first_a, second_a, third_a}));
  for (const auto& id : {first_a, second_a, third_a, other}) {
    EXPECT_EQ(delivery(id, endpoint.id)->state, "succeeded");
  }
}

TEST_F(DeliveryTest, EventsOfDifferentOrdersGoOutInParallel) {
  VerifyingReceiver receiver;
  receiver.script([](const ReceivedRequest&) {
    auto r = reply(200);
    r.delay = 200ms;
    return r;
  });
  add_endpoint(receiver, "/hooks");
  for (int i = 0; i < 8; ++i) emit("order.created", "ptn_1", "ord_" + std::to_string(i));
  DeliveryEngine engine(host_, settings());
  engine.fan_out_once();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(engine.dispatch_once(), 8u);
  ASSERT_TRUE(engine.wait_idle(10s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
}

TEST_F(DeliveryTest, ASlowEndpointDoesNotDelayAnotherOne) {
  VerifyingReceiver receiver;
  receiver.script([](const ReceivedRequest& r) {
    auto answer = reply(200);
    if (r.target == "/slow") answer.delay = 2s;
    return answer;
  });
  auto slow = add_endpoint(receiver, "/slow", EndpointSpec().partner("ptn_slow"));
  auto fast = add_endpoint(receiver, "/fast", EndpointSpec().partner("ptn_fast"));
  for (int i = 0; i < 20; ++i) emit("inventory.changed", "", "prod_" + std::to_string(i));

  DeliveryEngine engine(host_, settings());
  const auto started = std::chrono::steady_clock::now();
  auto fast_done = [&] {
    return scalar(
               "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?"
               " AND state = 'succeeded'",
               {fast.id}) == 20;
  };
  while (!fast_done() && std::chrono::steady_clock::now() - started < 5s) {
    engine.step();
    engine.wait_for_work(20ms);
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(fast_done());
  EXPECT_LT(took, 1500ms) << "the fast endpoint waited for the slow one";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?"
                   " AND state = 'succeeded'",
                   {slow.id}),
            0);
  EXPECT_EQ(engine.in_flight(), 8u);  // the slow endpoint's cap, all on the wire

  // Stopping abandons the slow requests: their rows stay pending, untouched, for a restart.
  engine.shutdown(100ms);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?"
                   " AND state = 'pending' AND attempts = 0",
                   {slow.id}),
            20);
}

TEST_F(DeliveryTest, FiveDaysOfFailuresDisableTheEndpointAndTellThePartnersOtherEndpoints) {
  VerifyingReceiver receiver;
  receiver.script([](const ReceivedRequest& r) { return reply(r.target == "/down" ? 500 : 200); });
  auto failing = add_endpoint(receiver, "/down", EndpointSpec().events({"order.*"}));
  auto other = add_endpoint(receiver, "/other", EndpointSpec().events({"inventory.changed"}));
  auto stranger = add_endpoint(receiver, "/stranger", EndpointSpec().partner("ptn_2"));
  DeliveryEngine engine(host_, settings());

  emit("order.created", "ptn_1", "ord_1");
  drain(engine);
  const auto since = sdk::format_timestamp(host_.now());
  EXPECT_EQ(endpoint_row(failing.id).text("failing_since"), since);

  host_.advance(std::chrono::hours(24 * 5) - 1s);
  emit("order.created", "ptn_1", "ord_2");
  drain(engine);
  EXPECT_EQ(endpoint_row(failing.id).text("status"), "enabled");  // not quite 5 days

  host_.advance(1s);
  emit("order.created", "ptn_1", "ord_3");
  drain(engine);
  auto status = endpoint_row(failing.id);
  EXPECT_EQ(status.text("status"), "disabled");
  EXPECT_EQ(status.text("disabled_reason"), "failing for 5 days");
  EXPECT_EQ(status.text("failing_since"), since);

  // webhook.endpoint_disabled reaches the partner's other endpoint despite its filter, and
  // nobody else.
  const auto told = receiver.requests_to("/other");
  ASSERT_EQ(told.size(), 1u);
  auto body = nlohmann::json::parse(told[0].body);
  EXPECT_EQ(body["type"], "webhook.endpoint_disabled");
  EXPECT_EQ(body["data"]["object"]["id"], failing.id);
  EXPECT_EQ(body["data"]["object"]["status"], "disabled");
  EXPECT_EQ(body["data"]["object"]["disabled_reason"], "failing for 5 days");
  EXPECT_FALSE(body["data"]["object"].contains("secret"));
  EXPECT_EQ(told[0].body.find(failing.secret), std::string::npos);
  EXPECT_TRUE(receiver.requests_to("/stranger").empty());
  EXPECT_EQ(stranger.id.empty(), false);

  // The disabled endpoint gets nothing more.
  const auto before = receiver.requests_to("/down").size();
  host_.advance(1h);
  emit("order.created", "ptn_1", "ord_4");
  drain(engine);
  EXPECT_EQ(receiver.requests_to("/down").size(), before);
}

TEST_F(DeliveryTest, ARestartResumesTheRowsThatWereOnTheWire) {
  VerifyingReceiver receiver;
  std::atomic<bool> hang{true};
  receiver.script([&](const ReceivedRequest&) {
    auto r = reply(200);
    r.hang = hang.load();
    return r;
  });
  auto endpoint = add_endpoint(receiver, "/hooks");
  const auto event_id = emit("order.created", "ptn_1", "ord_1");
  {
    DeliveryEngine first(host_, settings());
    first.fan_out_once();
    ASSERT_EQ(first.dispatch_once(), 1u);
    while (receiver.count() == 0) std::this_thread::sleep_for(5ms);
    first.shutdown(50ms);  // like a kill: the answer never came
  }
  auto row = delivery(event_id, endpoint.id);
  EXPECT_EQ(row->state, "pending");
  EXPECT_EQ(row->attempts, 0);

  hang = false;
  DeliveryEngine second(host_, settings());
  EXPECT_EQ(second.fan_out_once(), 0u);  // the position survived: no second fan-out
  EXPECT_EQ(second.dispatch_once(), 1u);
  ASSERT_TRUE(second.wait_idle(10s));
  EXPECT_EQ(delivery(event_id, endpoint.id)->state, "succeeded");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM webhook_deliveries"), 1);
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);  // at least once: the receiver dedupes on webhook-id
  EXPECT_EQ(requests[0].header("webhook-id"), requests[1].header("webhook-id"));
}

}  // namespace
}  // namespace portico::webhook_delivery::testbed

namespace portico::webhook_delivery::testbed {
namespace {

// The leases: one delivery kept on the wire (its receiver never answers) by an engine with a
// 300 ms lease, renewed every 100 ms.
class LeaseTest : public DeliveryTest {
 protected:
  void SetUp() override {
    DeliveryTest::SetUp();
    receiver_.script([](const ReceivedRequest&) {
      auto r = reply(200);
      r.hang = true;
      return r;
    });
    add_endpoint(receiver_, "/hooks");
    event_id_ = emit("order.created", "ptn_1", "ord_1");
    auto s = settings();
    s.lease = 300ms;
    s.fan_out_batch = 1;
    engine_ = std::make_unique<DeliveryEngine>(host_, s);
    engine_->fan_out_once();
    ASSERT_EQ(engine_->dispatch_once(), 1u);
    while (receiver_.count() == 0) std::this_thread::sleep_for(5ms);
  }
  void TearDown() override {
    host_.use_outbox(outbox_);
    if (engine_) engine_->shutdown(50ms);
    DeliveryTest::TearDown();
  }
  // Whether another node could claim the delivery on the wire now (its lease has run out).
  bool lapsed() {
    return scalar("SELECT lease_until FROM webhook_deliveries WHERE event_id = ?", {event_id_}) <=
           now_ms();
  }

  VerifyingReceiver receiver_;
  std::string event_id_;
  std::unique_ptr<DeliveryEngine> engine_;
};

TEST_F(LeaseTest, ALeaseShorterThanASweepIsRenewedWhileItsSendIsOnTheWire) {
  // Half a sweep (1 s) of turns, the fake clock 200 ms on at each: the lease keeps ahead of it.
  for (int turn = 0; turn < 4; ++turn) {
    host_.advance(200ms);
    std::this_thread::sleep_for(120ms);  // past lease/3 of real time
    engine_->dispatch_once();
    EXPECT_FALSE(lapsed()) << "turn " << turn << ": the lease lapsed on the wire";
  }
}

// The core's outbox, whose reads run `during_read` first: a fan-out batch that takes long.
class SlowOutbox final : public Outbox {
 public:
  SlowOutbox(std::shared_ptr<Outbox> inner, std::function<void()> during_read)
      : inner_(std::move(inner)), during_read_(std::move(during_read)) {}
  std::string append(Session& tx, const Event& event) override { return inner_->append(tx, event); }
  std::vector<StoredEvent> read_after(std::int64_t after, int limit) override {
    during_read_();
    return inner_->read_after(after, limit);
  }
  std::optional<StoredEvent> find(std::string_view id) override { return inner_->find(id); }
  std::vector<StoredEvent> feed(const EventFeedQuery& query) override {
    return inner_->feed(query);
  }

 private:
  std::shared_ptr<Outbox> inner_;
  std::function<void()> during_read_;
};

TEST_F(LeaseTest, ALeaseIsRenewedBeforeEachFanOutBatchOfALongRound) {
  // A backlog of three events, each batch of one taking 200 ms (the fake clock) — longer
  // together than the lease — and 120 ms of real time, past lease/3. While each batch runs,
  // could another node claim the delivery on the wire?
  for (int i = 2; i <= 4; ++i) emit("order.created", "ptn_1", "ord_" + std::to_string(i));
  int reads = 0;
  int lapses = 0;
  host_.use_outbox(std::make_shared<SlowOutbox>(outbox_, [&] {
    ++reads;
    host_.advance(200ms);
    std::this_thread::sleep_for(120ms);
    lapses += lapsed();
  }));
  engine_->step();
  EXPECT_GE(reads, 3);
  EXPECT_EQ(lapses, 0) << "the lease lapsed during " << lapses << " of " << reads
                       << " fan-out batches";
}

}  // namespace
}  // namespace portico::webhook_delivery::testbed
