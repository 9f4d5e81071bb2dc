// The whole service loop (DeliveryService) against a local receiver: 5,000 signed deliveries,
// printed as deliveries per second (measured, not asserted: the box may be busy).
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "plugins/webhook_delivery/delivery_service.hpp"
#include "tests/unit/plugins/webhook_delivery/delivery_fixture.hpp"

namespace portico::webhook_delivery::testbed {
namespace {

TEST_F(DeliveryTest, ServiceDeliversFiveThousandSignedEvents) {
  constexpr int kEndpoints = 4;  // one per partner; catalog events reach them all
  constexpr int kEvents = 1250;
  constexpr int kDeliveries = kEndpoints * kEvents;
  VerifyingReceiver receiver;
  for (int i = 0; i < kEndpoints; ++i) {
    add_endpoint(receiver, "/p" + std::to_string(i),
                 EndpointSpec().partner("ptn_" + std::to_string(i)));
  }
  db_->transaction([&](Session& tx) {
    for (int i = 0; i < kEvents; ++i) {
      Event event;
      event.type = "inventory.changed";
      event.subject = "prod_" + std::to_string(i % 100);
      event.object = {{"product_id", event.subject}, {"available", i}};
      outbox_->append(tx, event);
    }
  });

  DeliveryService service(host_, settings());
  const auto started = std::chrono::steady_clock::now();
  service.start();
  const char* count_sql = "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'succeeded'";
  while (scalar(count_sql) < kDeliveries &&
         std::chrono::steady_clock::now() - started < std::chrono::seconds(120)) {
    std::this_thread::sleep_for(20ms);
  }
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  service.stop();

  EXPECT_EQ(scalar(count_sql), kDeliveries);
  EXPECT_EQ(receiver.rejected(), 0);
  EXPECT_EQ(receiver.count(), static_cast<std::size_t>(kDeliveries));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM webhook_attempts"), kDeliveries);
  std::printf(
      "[ throughput ] %d signed deliveries (%d events x %d endpoints, ordered per "
      "product) in %.2f s: %.0f deliveries/s\n",
      kDeliveries, kEvents, kEndpoints, took.count(), kDeliveries / took.count());
}

}  // namespace
}  // namespace portico::webhook_delivery::testbed
