// The asynchronous contract seen from outside (plugin API 2.0): a slow handler or a store locked
// by another process holds up no other connection, even on one I/O thread; a client that leaves
// cancels its request and frees its worker; server.handler_timeout answers 504; requests in
// flight on a plugin instance survive the reloads that replace it; shutdown drains them.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "tests/integration/orders_helpers.hpp"
#include "tests/integration/reload_helpers.hpp"

namespace portico::test {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// The slowest of `rounds` requests made one after another, each on a fresh connection.
long long slowest_ms(int rounds, const std::function<int()>& request, int expected_status) {
  long long slowest = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    EXPECT_EQ(request(), expected_status);
    slowest = std::max(slowest, ms_since(start));
  }
  return slowest;
}

// One I/O thread, so any handler that blocked it would hold up every other connection.
std::vector<std::string> one_io_thread(std::vector<std::string> extra) {
  extra.insert(extra.end(), {"--set", "server.threads=1"});
  return extra;
}

TEST(AsyncHandlers, ASlowHandlerHoldsUpNoOtherConnection) {
  orders::Store s(one_io_thread({"--set", "plugins.hello.delay=1s"}));
  s.import(json::array({orders::stocked("prod_a", 1000, {{"icn-1", 5}})}));
  ASSERT_EQ(s.get(s.shop, "/v1/products/prod_a").status, 200);  // cached from now on

  std::vector<std::future<std::pair<int, long long>>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::async(std::launch::async, [&] {
      const auto start = Clock::now();
      const int status = http_request(s.gw.port, "GET", "/v1/hello/later").status;
      return std::make_pair(status, ms_since(start));
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // all four are being worked on
  const long long health = slowest_ms(
      10, [&] { return http_request(s.gw.port, "GET", "/healthz").status; }, 200);
  const long long product =
      slowest_ms(10, [&] { return s.get(s.shop, "/v1/products/prod_a").status; }, 200);
  std::printf("while four 1 s handlers run: /healthz slowest %lld ms, cached product %lld ms\n",
              health, product);
  RecordProperty("healthz_slowest_ms", std::to_string(health));
  RecordProperty("product_slowest_ms", std::to_string(product));
  EXPECT_LT(health, 200);
  EXPECT_LT(product, 200);
  for (auto& f : slow) {
    auto [status, took] = f.get();
    EXPECT_EQ(status, 200);
    EXPECT_GE(took, 950);
  }
}

// Another process holds SQLite's write lock for 10 s: the orders waiting for it sit on workers,
// and nothing else notices.
TEST(AsyncHandlers, AWriteLockHeldByAnotherProcessHoldsUpNoRead) {
  orders::Store s(one_io_thread({"--set", "storage.busy_timeout=30s"}));
  s.import(json::array({orders::stocked("prod_a", 1000, {{"icn-1", 50}})}));
  ASSERT_EQ(s.get(s.shop, "/v1/products/prod_a").status, 200);

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((s.gw.dir / "portico.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto locked_at = Clock::now();

  std::vector<std::future<int>> writes;
  for (int i = 0; i < 3; ++i) {
    writes.push_back(std::async(std::launch::async, [&s, i] {
      HttpConnection patient("127.0.0.1", s.gw.port, std::chrono::seconds(60));
      return patient
          .request("POST", "/v1/orders",
                   {{"X-API-Key", s.shop.key},
                    {"Idempotency-Key", "k-locked-" + std::to_string(i)},
                    {"Content-Type", "application/json"}},
                   orders::order_body({{"prod_a", 1}}).dump())
          .status;
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the writes wait for the lock
  long long health = 0, product = 0;
  while (ms_since(locked_at) < 9000) {
    health = std::max(health, slowest_ms(
                                  1, [&] { return http_request(s.gw.port, "GET", "/healthz").status; },
                                  200));
    product = std::max(
        product, slowest_ms(1, [&] { return s.get(s.shop, "/v1/products/prod_a").status; }, 200));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& w : writes) {
    EXPECT_EQ(w.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
        << "a write finished while another process held the lock";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  std::printf("write lock held 10 s by another process: /healthz slowest %lld ms, cached product "
              "%lld ms\n",
              health, product);
  RecordProperty("healthz_slowest_ms", std::to_string(health));
  RecordProperty("product_slowest_ms", std::to_string(product));
  EXPECT_LT(health, 200);
  EXPECT_LT(product, 200);
  for (auto& w : writes) EXPECT_EQ(w.get(), 201);  // then they go through
}

TEST(AsyncHandlers, HandlerTimeoutAnswers504AndTheConnectionGoesOn) {
  Gateway gw({"--set", "plugins.hello.delay=3s", "--set", "server.handler_timeout=200ms"});
  HttpConnection connection("127.0.0.1", gw.port);
  const auto start = Clock::now();
  auto timed_out = connection.request("GET", "/v1/hello/later");
  const long long took = ms_since(start);
  EXPECT_EQ(timed_out.status, 504) << timed_out.body;
  EXPECT_EQ(json::parse(timed_out.body)["code"], "handler_timeout");
  EXPECT_EQ(timed_out.header("Content-Type").value_or(""), "application/problem+json");
  EXPECT_TRUE(timed_out.header("X-Request-Id"));
  EXPECT_GE(took, 190);
  EXPECT_LT(took, 2000);
  // The late answer is dropped; the keep-alive connection serves the next request.
  auto next = connection.request("GET", "/v1/hello");
  EXPECT_EQ(next.status, 200) << next.body;
}

// One worker: while a cancelled request kept it, nothing else that needs a worker could run.
TEST(AsyncHandlers, AClientThatLeavesCancelsItsRequestAndFreesItsWorker) {
  orders::Store s({"--set", "plugins.hello.delay=20s", "--set", "server.workers=1"});
  {
    HttpConnection leaving("127.0.0.1", s.gw.port);
    leaving.send_raw("GET /v1/hello/later HTTP/1.1\r\nHost: x\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // picked up by the worker
  }  // closed: the gateway sees EOF while the answer is pending
  const auto start = Clock::now();
  auto list = s.get(s.shop, "/v1/products");  // runs on the (only) worker
  const long long took = ms_since(start);
  EXPECT_EQ(list.status, 200) << list.body;
  std::printf("the next request on the only worker answered after %lld ms\n", took);
  EXPECT_LT(took, 2000) << "the cancelled handler kept the worker";

  // The access log says what happened to the request: 499, the client left.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the log writer's interval
  std::string log;
  for (const auto& file : std::filesystem::directory_iterator(s.gw.dir / "log")) {
    if (file.path().filename().string().starts_with("access")) {
      std::ifstream in(file.path());
      log.append(std::istreambuf_iterator<char>(in), {});
    }
  }
  EXPECT_NE(log.find("\"status\":499"), std::string::npos) << log;
}

// Requests in flight on a plugin instance that reloads replace keep it (and its library) until
// they are answered; none fails.
TEST(AsyncHandlers, RequestsInFlightAcrossReloadsAllAnswer) {
  reload::ReloadGateway gw;
  reload::install(reload::fixture("hello-1.0.0.so"), gw.plugins_dir() / "hello-1.0.0.so");
  reload::install(reload::fixture("hello-1.1.0.so"), gw.plugins_dir() / "hello-1.1.0.so");
  auto hello = [](const std::string& range, const std::string& greeting) {
    return reload::hello_pinned(range, greeting) + "delay = \"300ms\"\n";
  };
  gw.write_config(hello("~1.0", "hi"));
  gw.start();

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&] {
      HttpConnection connection("127.0.0.1", gw.port);
      while (!stop) {
        try {
          auto res = connection.request("GET", "/v1/hello/later");
          const auto message = json::parse(res.body).value("message", "");
          (res.status == 200 && (message == "hi" || message == "howdy") ? ok : failed)++;
        } catch (const std::exception&) {
          failed++;
          return;
        }
      }
    });
  }
  std::vector<std::string> refused;  // asserted once the clients are joined
  for (int i = 1; i <= 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    const bool newer = i % 2 == 1;
    gw.write_config(hello(newer ? "^1.1" : "~1.0", newer ? "howdy" : "hi"));
    try {
      auto result = gw.reload();
      if (!result.value("changed", false)) refused.push_back(result.dump());
    } catch (const std::exception& e) {
      refused.push_back(e.what());
    }
  }
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(refused, std::vector<std::string>{});
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GE(ok.load(), 6 * 3);
}

// SIGTERM while requests are in flight: each gets its answer before the process exits.
TEST(AsyncHandlers, ShutdownDrainsRequestsInFlight) {
  Gateway gw({"--set", "plugins.hello.delay=700ms"});
  std::vector<std::future<int>> pending;
  for (int i = 0; i < 4; ++i) {
    pending.push_back(std::async(std::launch::async, [&gw] {
      return http_request(gw.port, "GET", "/v1/hello/later").status;
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  gw.process->signal(SIGTERM);
  for (auto& p : pending) EXPECT_EQ(p.get(), 200);
  EXPECT_EQ(gw.process->wait_exit(std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace portico::test
