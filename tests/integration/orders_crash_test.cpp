// No loss on a crash: orders are created continuously from several connections, the gateway is
// killed with SIGKILL mid-stream and restarted on the same database. Every order that was answered
// 201 is there with its items, its idempotency record (a replay answers the same bytes) and its
// order.created event; and stock is consistent: reserved units are exactly those of the open
// orders that exist, and available + reserved is the initial stock.
#include <gtest/gtest.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/orders_helpers.hpp"

namespace portico::test::orders {
namespace {

struct Acknowledged {
  std::string idempotency_key;
  std::string request;
  json request_json;
  std::string response;
  std::string order_id;
};

TEST(OrdersCrash, EveryAcknowledgedOrderSurvivesKill9AndStockStaysConsistent) {
  Store s;
  const std::map<std::string, std::int64_t> initial{{"prod_a", 300000}, {"prod_b", 200000}};
  s.import({stocked("prod_a", 1500, {{"icn-1", 150000}, {"pus-1", 150000}}),
            stocked("prod_b", 2500, {{"icn-1", 200000}})});
  // Before the load: one order cancelled (stock back) and one shipped (stock gone for good).
  json cancelled = s.create_ok(s.shop, "before-1", order_body({{"prod_a", 5}}));
  ASSERT_EQ(s.patch(s.shop, cancelled["id"], {{"status", "cancelled"}}).status, 200);
  json shipped = s.create_ok(s.shop, "before-2", order_body({{"prod_b", 7}}));
  ASSERT_EQ(s.set_status(shipped["id"], "confirmed").status, 200);
  ASSERT_EQ(s.ship(shipped["id"]).status, 201);
  const std::map<std::string, std::int64_t> shipped_units{{"prod_a", 0}, {"prod_b", 7}};

  // Enough writers that orders wait for the writer together and share commits (group commit):
  // the kill lands while a batch of them is open, and none of a batch may be half there.
  const int writers = 12;
  std::mutex mutex;
  std::vector<Acknowledged> acknowledged;
  std::vector<std::string> unexpected;
  std::atomic<int> acked{0};
  std::atomic<int> ended_by_crash{0};
  const auto hard_stop = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      try {
        HttpConnection connection("127.0.0.1", s.gw.port, std::chrono::seconds(5));
        for (int n = 0; std::chrono::steady_clock::now() < hard_stop; ++n) {
          const std::string key = "crash-" + std::to_string(t) + "-" + std::to_string(n);
          std::vector<std::pair<std::string, json>> lines{{"prod_a", n % 3 + 1}};
          if ((n + t) % 2 == 0) lines.emplace_back("prod_b", t + 1);
          json body = order_body(lines, {{"metadata", {{"thread", std::to_string(t)}}}});
          if (n % 5 == 0) body["external_id"] = key;
          std::string request = body.dump();
          auto res = connection.request("POST", "/v1/orders",
                                        {{"X-API-Key", s.shop.key},
                                         {"Content-Type", "application/json"},
                                         {"Idempotency-Key", key}},
                                        request);
          if (res.status == 201) {
            std::string id = json::parse(res.body)["id"];
            std::lock_guard lock(mutex);
            acknowledged.push_back({key, request, body, res.body, id});
            ++acked;
          } else {
            std::lock_guard lock(mutex);
            unexpected.push_back(std::to_string(res.status) + " " + res.body);
          }
        }
      } catch (const std::exception&) {
        ++ended_by_crash;  // the gateway died under this connection
      }
    });
  }

  // Kill once the load is well under way (or after 1.5 s, whatever comes first).
  const auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (acked < 400 && std::chrono::steady_clock::now() < kill_at) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  s.gw.process->signal(SIGKILL);
  EXPECT_EQ(s.gw.process->wait_exit(std::chrono::seconds(5)), 128 + SIGKILL);
  for (auto& t : threads) t.join();
  EXPECT_EQ(ended_by_crash.load(), writers) << "every writer was still writing at the kill";
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " unexpected answers, first: "
                                  << (unexpected.empty() ? "" : unexpected.front());
  ASSERT_GT(acknowledged.size(), 0u) << "no order was acknowledged before the kill";
  std::cout << "[ info     ] " << acknowledged.size() << " orders acknowledged before SIGKILL\n";

  s.gw.restart();

  // Every acknowledged order, as it was answered.
  HttpConnection connection("127.0.0.1", s.gw.port);
  int missing = 0, not_replayed = 0;
  for (const auto& ack : acknowledged) {
    auto read =
        connection.request("GET", "/v1/orders/" + ack.order_id, {{"X-API-Key", s.shop.key}});
    if (read.status != 200) {
      if (++missing <= 5)
        ADD_FAILURE() << ack.order_id << " lost: " << read.status << " " << read.body;
      continue;
    }
    json order = json::parse(read.body);
    EXPECT_EQ(order, json::parse(ack.response)) << ack.order_id;
    std::vector<std::pair<std::string, std::int64_t>> requested;
    for (const auto& item : ack.request_json["items"]) {
      requested.emplace_back(item["product_id"], item["quantity"]);
    }
    EXPECT_EQ(lines_of(order), requested) << ack.order_id;

    auto replay = connection.request("POST", "/v1/orders",
                                     {{"X-API-Key", s.shop.key},
                                      {"Content-Type", "application/json"},
                                      {"Idempotency-Key", ack.idempotency_key}},
                                     ack.request);
    if (replay.status != 201 || replay.header("Idempotent-Replayed") != "true" ||
        replay.body != ack.response) {
      if (++not_replayed <= 5) {
        ADD_FAILURE() << ack.idempotency_key << " not replayed after the restart: " << replay.status
                      << " " << replay.body;
      }
    }
  }
  EXPECT_EQ(missing, 0) << "acknowledged orders lost in the crash";
  EXPECT_EQ(not_replayed, 0) << "idempotency records lost in the crash";

  // order.created of every order that exists (acknowledged or committed just before the kill).
  std::map<std::string, int> created_events;
  for (const json& event : s.events_where("type = 'order.created'")) {
    ++created_events[event["data"]["object"]["id"].get<std::string>()];
  }
  std::vector<json> all = s.walk(s.shop, "", 100);
  std::set<std::string> existing;
  std::map<std::string, std::int64_t> open_units;
  for (const auto& order : all) {
    existing.insert(order["id"]);
    EXPECT_EQ(created_events[order["id"]], 1) << order["id"] << " has no single order.created";
    if (order["status"] == "pending" || order["status"] == "confirmed") {
      for (const auto& item : order["items"]) {
        open_units[item["product_id"]] += item["quantity"].get<std::int64_t>();
      }
    }
  }
  EXPECT_EQ(existing.size(), all.size()) << "the list repeats an order";
  for (const auto& ack : acknowledged) {
    EXPECT_EQ(existing.count(ack.order_id), 1u) << ack.order_id << " missing from the list";
  }
  EXPECT_EQ(created_events.size(), existing.size()) << "an order.created without its order";
  std::cout << "[ info     ] " << all.size() << " orders in the database after the restart\n";

  // No reservation without an order, no order without its reservation, no unit lost.
  for (const auto& [product, stock] : initial) {
    json inventory = s.inventory(product);
    const std::int64_t available = inventory["available"];
    const std::int64_t reserved = inventory["reserved"];
    EXPECT_EQ(reserved, open_units[product]) << product;
    EXPECT_EQ(available + reserved, stock - shipped_units.at(product)) << product;
  }

  // And the restarted gateway takes new orders, keeping the keys it had.
  auto fresh = s.create(s.shop, "after-restart", order_body({{"prod_a", 1}}));
  EXPECT_EQ(fresh.status, 201) << fresh.body;
  auto old_key_new_body =
      s.create(s.shop, acknowledged.front().idempotency_key, order_body({{"prod_a", 99}}));
  EXPECT_EQ(old_key_new_body.status, 422) << old_key_new_body.body;
}

}  // namespace
}  // namespace portico::test::orders
