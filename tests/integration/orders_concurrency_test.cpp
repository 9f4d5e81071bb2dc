// Orders under concurrency through the real binary: many buyers of the last units never oversell,
// and many simultaneous requests under one Idempotency-Key create exactly one order.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <iostream>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/orders_helpers.hpp"

namespace portico::test::orders {
namespace {

// One answer (or the exception that replaced it) of a concurrent request.
struct Answer {
  int status = 0;
  std::string code;
  std::string body;
  bool replayed = false;
  std::string error;
};

// Runs `count` POST /v1/orders at once, each on its own connection opened beforehand; the
// requests leave together when every thread is connected.
std::vector<Answer> create_at_once(Store& s, const std::string& api_key, int count,
                                   const std::function<std::string(int)>& idempotency_key,
                                   const std::string& body) {
  std::vector<Answer> answers(static_cast<std::size_t>(count));
  std::latch ready(count);
  std::vector<std::thread> threads;
  for (int n = 0; n < count; ++n) {
    threads.emplace_back([&, n] {
      Answer& answer = answers[static_cast<std::size_t>(n)];
      try {
        HttpConnection connection("127.0.0.1", s.gw.port, std::chrono::seconds(20));
        ready.arrive_and_wait();
        auto res = connection.request("POST", "/v1/orders",
                                      {{"X-API-Key", api_key},
                                       {"Content-Type", "application/json"},
                                       {"Idempotency-Key", idempotency_key(n)}},
                                      body);
        answer.status = res.status;
        answer.code = code_of(res);
        answer.body = res.body;
        answer.replayed = res.header("Idempotent-Replayed") == "true";
      } catch (const std::exception& e) {
        answer.error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  return answers;
}

TEST(OrdersConcurrency, FortyBuyersOfTheLastTenUnitsMakeExactlyTenOrders) {
  Store s;
  // The last ten units, split over two warehouses; a second product keeps plenty.
  s.import({stocked("prod_last", 59000, {{"icn-1", 6}, {"pus-1", 4}}),
            stocked("prod_plenty", 1000, {{"icn-1", 1000}})});
  const int buyers = 40;
  auto answers = create_at_once(
      s, s.shop.key, buyers, [](int n) { return "buyer-" + std::to_string(n); },
      order_body({{"prod_last", 1}, {"prod_plenty", 1}}).dump());

  int created = 0, sold_out = 0;
  std::set<std::string> ids;
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer.error.empty()) << answer.error;
    if (answer.status == 201) {
      ++created;
      ids.insert(json::parse(answer.body)["id"].get<std::string>());
    } else if (answer.status == 409 && answer.code == "insufficient_inventory") {
      ++sold_out;
      json problem = json::parse(answer.body);
      ASSERT_EQ(problem["errors"].size(), 1u) << answer.body;
      EXPECT_TRUE(problem["errors"][0]["field"].get<std::string>().starts_with("items[0]"))
          << answer.body;
    } else {
      ADD_FAILURE() << answer.status << " " << answer.body;
    }
  }
  EXPECT_EQ(created, 10);
  EXPECT_EQ(sold_out, 30);
  EXPECT_EQ(ids.size(), 10u);

  json last = s.inventory("prod_last");
  EXPECT_EQ(last["available"], 0);
  EXPECT_EQ(last["reserved"], 10);
  EXPECT_EQ(last["warehouses"], (json{{{"id", "icn-1"}, {"available", 0}, {"reserved", 6}},
                                      {{"id", "pus-1"}, {"available", 0}, {"reserved", 4}}}));
  // The refused buyers reserved nothing of the other line either.
  EXPECT_EQ(s.stock("prod_plenty"), (std::pair<std::int64_t, std::int64_t>{990, 10}));

  auto listed = s.walk_ids(s.shop, "", 7);
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), ids);
  EXPECT_EQ(listed.size(), 10u);
  EXPECT_EQ(s.events_where("type = 'order.created'").size(), 10u);
  // import + one per order; the last one shows the end state.
  auto stock_events = s.inventory_events("prod_last");
  ASSERT_EQ(stock_events.size(), 11u);
  EXPECT_EQ(stock_events.back()["data"]["object"]["available"], 0);
  EXPECT_EQ(stock_events.back()["data"]["object"]["reserved"], 10);

  // Cancelling one frees exactly one unit for exactly one more buyer.
  ASSERT_EQ(s.patch(s.shop, *ids.begin(), {{"status", "cancelled"}}).status, 200);
  auto second_round = create_at_once(
      s, s.shop.key, 8, [](int n) { return "late-buyer-" + std::to_string(n); },
      order_body({{"prod_last", 1}}).dump());
  int late_created = 0;
  for (const auto& answer : second_round) {
    ASSERT_TRUE(answer.error.empty()) << answer.error;
    if (answer.status == 201) {
      ++late_created;
    } else {
      EXPECT_EQ(answer.status, 409) << answer.body;
      EXPECT_EQ(answer.code, "insufficient_inventory");
    }
  }
  EXPECT_EQ(late_created, 1);
  EXPECT_EQ(s.stock("prod_last"), (std::pair<std::int64_t, std::int64_t>{0, 10}));
}

TEST(OrdersConcurrency, SimultaneousRequestsWithOneKeyCreateOneOrder) {
  Store s;
  s.import(json::array({stocked("prod_a", 1000, {{"icn-1", 10000}})}));
  const int rounds = 5, threads = 16;
  int in_use_total = 0;
  for (int round = 0; round < rounds; ++round) {
    const std::string key = "same-key-" + std::to_string(round);
    const std::string body = order_body({{"prod_a", 3}}).dump();
    auto answers = create_at_once(
        s, s.shop.key, threads, [&](int) { return key; }, body);

    int originals = 0, replays = 0, in_use = 0;
    std::set<std::string> bodies;
    for (const auto& answer : answers) {
      ASSERT_TRUE(answer.error.empty()) << answer.error;
      if (answer.status == 201) {
        bodies.insert(answer.body);
        (answer.replayed ? replays : originals) += 1;
      } else if (answer.status == 409) {
        EXPECT_EQ(answer.code, "idempotency_key_in_use") << answer.body;
        ++in_use;
      } else {
        ADD_FAILURE() << "round " << round << ": " << answer.status << " " << answer.body;
      }
    }
    EXPECT_EQ(originals, 1) << "round " << round;
    EXPECT_EQ(bodies.size(), 1u) << "every 201 is the same order, byte for byte";
    EXPECT_EQ(originals + replays + in_use, threads);
    in_use_total += in_use;

    // Afterwards the key replays that order.
    auto after = s.create_raw(s.shop.key, key, body);
    EXPECT_EQ(after.status, 201);
    EXPECT_EQ(after.header("Idempotent-Replayed"), "true");
    if (!bodies.empty()) {
      EXPECT_EQ(after.body, *bodies.begin());
    }
  }
  EXPECT_EQ(s.walk(s.shop, "", 100).size(), static_cast<std::size_t>(rounds));
  EXPECT_EQ(s.stock("prod_a"),
            (std::pair<std::int64_t, std::int64_t>{10000 - 3 * rounds, 3 * rounds}));
  EXPECT_EQ(s.events_where("type = 'order.created'").size(), static_cast<std::size_t>(rounds));
  std::cout << "[ info     ] " << in_use_total << " of " << rounds * (threads - 1)
            << " concurrent duplicates answered 409 idempotency_key_in_use\n";
}

TEST(OrdersConcurrency, SimultaneousRequestsWithOneKeyButDifferentBodies) {
  Store s;
  s.import(json::array({stocked("prod_a", 1000, {{"icn-1", 10000}})}));
  const int threads = 12;
  std::vector<std::string> bodies;
  for (int n = 0; n < threads; ++n) bodies.push_back(order_body({{"prod_a", n + 1}}).dump());
  std::vector<Answer> answers(threads);
  std::latch ready(threads);
  std::vector<std::thread> workers;
  for (int n = 0; n < threads; ++n) {
    workers.emplace_back([&, n] {
      try {
        HttpConnection connection("127.0.0.1", s.gw.port, std::chrono::seconds(20));
        ready.arrive_and_wait();
        auto res = connection.request("POST", "/v1/orders",
                                      {{"X-API-Key", s.shop.key},
                                       {"Content-Type", "application/json"},
                                       {"Idempotency-Key", "contended"}},
                                      bodies[static_cast<std::size_t>(n)]);
        answers[static_cast<std::size_t>(n)] = {res.status, code_of(res), res.body,
                                                res.header("Idempotent-Replayed") == "true", ""};
      } catch (const std::exception& e) {
        answers[static_cast<std::size_t>(n)].error = e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
  int created = 0;
  std::int64_t quantity = 0;
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer.error.empty()) << answer.error;
    if (answer.status == 201) {
      ++created;
      quantity = json::parse(answer.body)["items"][0]["quantity"];
    } else {
      EXPECT_TRUE((answer.status == 409 && answer.code == "idempotency_key_in_use") ||
                  (answer.status == 422 && answer.code == "idempotency_conflict"))
          << answer.status << " " << answer.body;
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(s.walk(s.shop, "", 100).size(), 1u);
  EXPECT_EQ(s.stock("prod_a"), (std::pair<std::int64_t, std::int64_t>{10000 - quantity, quantity}));
}

}  // namespace
}  // namespace portico::test::orders
