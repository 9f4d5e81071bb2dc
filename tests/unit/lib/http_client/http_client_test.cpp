// The webhook HTTP client against a loopback receiver: statuses, headers, timeouts, pooling, the
// address guard, concurrency, shutdown, and a printed throughput figure.
#include "lib/http_client/http_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/http_receiver.hpp"
#include "tests/unit/lib/http_client/deliver.hpp"

namespace portico::http_client {
namespace {

using namespace std::chrono_literals;
using webhooks::test::ReceivedRequest;
using webhooks::test::Receiver;
using webhooks::test::Reply;

OutgoingRequest to(const Receiver& receiver, std::string body = R"({"id":"evt_1"})") {
  OutgoingRequest r;
  r.scheme = "http";
  r.host = "127.0.0.1";
  r.port = receiver.port();
  r.target = "/hooks/orders?x=1";
  r.body = std::move(body);
  r.pool_key = "ep_1";
  r.timeout = 5s;
  return r;
}

Reply answer(int status, std::vector<std::pair<std::string, std::string>> headers = {},
             std::string body = "ok") {
  Reply reply;
  reply.status = status;
  reply.headers = std::move(headers);
  reply.body = std::move(body);
  return reply;
}

TEST(WebhookClient, DeliversBodyAndHeadersAsSent) {
  Receiver receiver([](const ReceivedRequest&) { return answer(200, {}, "thanks"); });
  HttpClient client({});
  auto request = to(receiver);
  request.headers = {{"webhook-id", "evt_1"},
                     {"webhook-timestamp", "1614265330"},
                     {"webhook-signature", "v1,abc= v1,def="}};
  auto result = deliver(client, request);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.body_excerpt, "thanks");
  EXPECT_FALSE(result.connection_reused);
  EXPECT_FALSE(result.location);
  EXPECT_FALSE(result.retry_after);

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& got = requests[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hooks/orders?x=1");
  EXPECT_EQ(got.body, R"({"id":"evt_1"})");
  EXPECT_EQ(got.header("Host"), "127.0.0.1:" + std::to_string(receiver.port()));
  EXPECT_EQ(got.header("User-Agent"), "Portico-Webhooks/1.0");
  EXPECT_EQ(got.header("Content-Type"), "application/json");
  EXPECT_EQ(got.header("Content-Length"), std::to_string(request.body.size()));
  EXPECT_EQ(got.header("webhook-id"), "evt_1");
  EXPECT_EQ(got.header("webhook-timestamp"), "1614265330");
  EXPECT_EQ(got.header("webhook-signature"), "v1,abc= v1,def=");
  EXPECT_EQ(client.in_flight(), 0u);
}

TEST(WebhookClient, CallerHeadersReplaceDefaultsButNotFraming) {
  Receiver receiver([](const ReceivedRequest&) { return answer(204, {}, ""); });
  HttpClient client({});
  auto request = to(receiver, "{}");
  request.headers = {{"User-Agent", "custom/2"},
                     {"Content-Type", "application/cloudevents+json"},
                     {"Content-Length", "999"},
                     {"Host", "evil.example"}};
  auto result = deliver(client, request);
  EXPECT_EQ(result.status, 204);
  auto got = receiver.requests().at(0);
  EXPECT_EQ(got.header("User-Agent"), "custom/2");
  EXPECT_EQ(got.header("Content-Type"), "application/cloudevents+json");
  EXPECT_EQ(got.header("Content-Length"), "2");
  EXPECT_EQ(got.header("Host"), "127.0.0.1:" + std::to_string(receiver.port()));
  EXPECT_EQ(got.body, "{}");
}

TEST(WebhookClient, ReportsServerErrorsAndGone) {
  Receiver receiver([](const ReceivedRequest& r) {
    return r.target == "/gone" ? answer(410, {}, "gone") : answer(500, {}, "boom");
  });
  HttpClient client({});
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 500);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.body_excerpt, "boom");
  auto request = to(receiver);
  request.target = "/gone";
  result = deliver(client, request);
  EXPECT_EQ(result.status, 410);
  EXPECT_EQ(result.body_excerpt, "gone");
}

TEST(WebhookClient, DoesNotFollowRedirects) {
  Receiver receiver([](const ReceivedRequest&) {
    return answer(301, {{"Location", "http://127.0.0.1:1/elsewhere"}}, "");
  });
  HttpClient client({});
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 301);
  EXPECT_EQ(result.location, "http://127.0.0.1:1/elsewhere");
  EXPECT_EQ(receiver.request_count(), 1u);
}

TEST(WebhookClient, SurfacesRetryAfter) {
  Receiver receiver([](const ReceivedRequest&) {
    return answer(503, {{"Retry-After", "120"}}, "later");
  });
  HttpClient client({});
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 503);
  EXPECT_EQ(result.retry_after, "120");
}

TEST(WebhookClient, KeepsOnlyAnExcerptOfLongBodies) {
  Receiver receiver([](const ReceivedRequest& r) {
    return answer(200, {}, std::string(r.target == "/huge" ? 200 * 1024 : 4000, 'x'));
  });
  HttpClient client({});
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body_excerpt, std::string(1024, 'x'));
  // Over max_response_body: the status still counts, the connection is not kept.
  auto request = to(receiver);
  request.target = "/huge";
  result = deliver(client, request);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.body_excerpt, std::string(1024, 'x'));
  result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 200);
  EXPECT_FALSE(result.connection_reused);
  EXPECT_EQ(receiver.connections(), 2);
}

TEST(WebhookClient, TimesOutWhenTheReceiverNeverAnswers) {
  Receiver receiver([](const ReceivedRequest&) {
    Reply reply;
    reply.hang = true;
    return reply;
  });
  HttpClient client({});
  auto request = to(receiver);
  request.timeout = 300ms;
  auto started = std::chrono::steady_clock::now();
  auto result = deliver(client, request);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("timed out after 300 ms"), std::string::npos) << result.error;
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 2s);
  EXPECT_GE(result.latency, 290ms);
}

TEST(WebhookClient, ReportsConnectionRefused) {
  std::uint16_t port = portico::test::free_port();
  HttpClient client({});
  OutgoingRequest request;
  request.scheme = "http";
  request.host = "127.0.0.1";
  request.port = port;
  auto result = deliver(client, request);
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("cannot connect to 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << result.error;
}

TEST(WebhookClient, RejectsInvalidRequestsWithoutSending) {
  Receiver receiver([](const ReceivedRequest&) { return answer(200); });
  HttpClient client({});
  auto request = to(receiver);
  request.headers = {{"X-Bad", "a\r\nInjected: yes"}};
  auto result = deliver(client, request);
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("invalid request"), std::string::npos) << result.error;
  request = to(receiver);
  request.scheme = "ftp";
  result = deliver(client, request);
  EXPECT_NE(result.error.find("unsupported scheme"), std::string::npos) << result.error;
  EXPECT_EQ(receiver.connections(), 0);
}

TEST(WebhookClient, ReusesTheConnection) {
  Receiver receiver([](const ReceivedRequest&) { return answer(200); });
  HttpClient client({});
  auto first = deliver(client, to(receiver));
  auto second = deliver(client, to(receiver));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(second.status, 200);
  EXPECT_FALSE(first.connection_reused);
  EXPECT_TRUE(second.connection_reused);
  EXPECT_EQ(receiver.connections(), 1);
  EXPECT_EQ(client.idle_connections(), 1u);

  // Another pool key gets its own connection.
  auto other = to(receiver);
  other.pool_key = "ep_2";
  auto third = deliver(client, other);
  EXPECT_EQ(third.status, 200);
  EXPECT_FALSE(third.connection_reused);
  EXPECT_EQ(receiver.connections(), 2);
}

TEST(WebhookClient, ConnectionClosedByThePeerWhileIdleIsNotUsed) {
  Receiver receiver([](const ReceivedRequest&) {
    Reply reply = answer(200);
    reply.close_after = true;  // keep-alive answer, then the server closes anyway
    return reply;
  });
  HttpClient client({});
  EXPECT_EQ(deliver(client, to(receiver)).status, 200);
  ASSERT_TRUE(receiver.wait_closed(1));
  std::this_thread::sleep_for(50ms);
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.error, "");
  EXPECT_FALSE(result.connection_reused);
  EXPECT_EQ(receiver.connections(), 2);
}

TEST(WebhookClient, ReusedConnectionDroppedBeforeAnswerIsRetriedOnce) {
  // The second request on every connection is dropped without an answer (a keep-alive race).
  Receiver receiver([](const ReceivedRequest& r) {
    Reply reply = answer(200);
    reply.drop = r.index > 0;
    return reply;
  });
  HttpClient client({});
  EXPECT_EQ(deliver(client, to(receiver)).status, 200);
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.error, "");
  EXPECT_FALSE(result.connection_reused);
  EXPECT_EQ(receiver.connections(), 2);
  EXPECT_EQ(receiver.request_count(), 3u);
}

TEST(WebhookClient, DoesNotRetryAFreshConnection) {
  Receiver receiver([](const ReceivedRequest&) {
    Reply reply;
    reply.drop = true;
    return reply;
  });
  HttpClient client({});
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("closed without a response"), std::string::npos) << result.error;
  EXPECT_EQ(receiver.connections(), 1);
}

TEST(WebhookClient, RefusedAddressesAreNeverConnected) {
  Receiver receiver([](const ReceivedRequest&) { return answer(200); });
  ClientOptions options;
  std::mutex mutex;
  std::vector<std::string> checked;
  options.refuse_address = [&](const std::string& ip) -> std::optional<std::string> {
    std::lock_guard lock(mutex);
    checked.push_back(ip);
    if (ip == "127.0.0.1" || ip == "::1") return "loopback addresses are not allowed";
    return std::nullopt;
  };
  HttpClient client(options);
  auto result = deliver(client, to(receiver));
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("loopback addresses are not allowed"), std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("127.0.0.1"), std::string::npos) << result.error;

  // A name resolving to loopback (DNS rebinding) is checked after resolution.
  auto by_name = to(receiver);
  by_name.host = "localhost";
  result = deliver(client, by_name);
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("loopback addresses are not allowed"), std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("localhost"), std::string::npos) << result.error;
  EXPECT_EQ(receiver.connections(), 0);
  std::lock_guard lock(mutex);
  EXPECT_GE(checked.size(), 2u);
}

TEST(WebhookClient, ResolvesHostNames) {
  Receiver receiver([](const ReceivedRequest&) { return answer(200); });
  ClientOptions options;
  options.refuse_address = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  HttpClient client(options);
  auto request = to(receiver);
  request.host = "localhost";
  auto result = deliver(client, request);
  EXPECT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(receiver.requests().at(0).header("Host"),
            "localhost:" + std::to_string(receiver.port()));
}

TEST(WebhookClient, ManyConcurrentPostsAllComplete) {
  Receiver receiver([](const ReceivedRequest&) { return answer(200); });
  constexpr int kPosts = 200;
  std::atomic<int> ok{0}, completed{0};
  std::promise<void> all_done;
  ClientOptions options;
  options.threads = 2;
  HttpClient client(options);  // declared last: joins its threads before the state above goes
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kPosts / 4; ++i) {
        client.post(to(receiver), [&](DeliveryResult r) {
          if (r.status == 200) ++ok;
          if (++completed == kPosts) all_done.set_value();
        });
      }
    });
  }
  for (auto& t : posters) t.join();
  ASSERT_EQ(all_done.get_future().wait_for(20s), std::future_status::ready);
  EXPECT_EQ(ok.load(), kPosts);
  EXPECT_EQ(client.in_flight(), 0u);
  EXPECT_LE(client.idle_connections(), 8u);  // max_idle_per_pool
}

TEST(WebhookClient, CapsConcurrencyPerPool) {
  Receiver receiver([](const ReceivedRequest&) {
    Reply reply = answer(200);
    reply.delay = 30ms;
    return reply;
  });
  constexpr int kPosts = 10;
  std::atomic<int> ok{0}, completed{0};
  std::promise<void> all_done;
  ClientOptions options;
  options.max_concurrency_per_pool = 2;
  HttpClient client(options);
  for (int i = 0; i < kPosts; ++i) {
    client.post(to(receiver), [&](DeliveryResult r) {
      if (r.status == 200) ++ok;
      if (++completed == kPosts) all_done.set_value();
    });
  }
  EXPECT_EQ(client.in_flight(), static_cast<std::size_t>(kPosts - completed.load()));
  ASSERT_EQ(all_done.get_future().wait_for(20s), std::future_status::ready);
  EXPECT_EQ(ok.load(), kPosts);
  EXPECT_LE(receiver.max_concurrent(), 2);
  EXPECT_LE(receiver.connections(), 2);
}

TEST(WebhookClient, DestructorCompletesRequestsInFlight) {
  Receiver receiver([](const ReceivedRequest&) {
    Reply reply;
    reply.hang = true;
    return reply;
  });
  std::mutex mutex;
  std::vector<DeliveryResult> results;
  std::chrono::steady_clock::duration took{};
  {
    ClientOptions options;
    options.max_concurrency_per_pool = 3;  // some wait in the queue
    std::optional<HttpClient> client(std::in_place, options);
    for (int i = 0; i < 5; ++i) {
      client->post(to(receiver), [&](DeliveryResult r) {
        std::lock_guard lock(mutex);
        results.push_back(std::move(r));
      });
    }
    auto until = std::chrono::steady_clock::now() + 5s;
    while (receiver.request_count() < 3 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_EQ(client->in_flight(), 5u);
    auto started = std::chrono::steady_clock::now();
    client.reset();
    took = std::chrono::steady_clock::now() - started;
  }
  EXPECT_LT(took, 1s);
  ASSERT_EQ(results.size(), 5u);
  for (const auto& r : results) {
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error, "client stopped");
  }
}

TEST(WebhookClient, PostAfterStopCompletesImmediately) {
  auto client = std::make_unique<HttpClient>(ClientOptions{});
  HttpClient* raw = client.get();
  std::optional<DeliveryResult> late;
  // A callback posting again during shutdown gets an immediate "client stopped".
  Receiver receiver([](const ReceivedRequest&) {
    Reply reply;
    reply.hang = true;
    return reply;
  });
  raw->post(to(receiver), [&, raw](DeliveryResult) {
    raw->post(to(receiver), [&](DeliveryResult r) { late = std::move(r); });
  });
  while (receiver.request_count() < 1) std::this_thread::sleep_for(5ms);
  client.reset();
  ASSERT_TRUE(late);
  EXPECT_EQ(late->error, "client stopped");
}

// Not a pass/fail test: prints what one client thread sustains against the loopback receiver.
TEST(WebhookClient, Throughput) {
  Receiver receiver([](const ReceivedRequest&) { return answer(200); });
  constexpr int kTotal = 5000, kWindow = 32;
  std::atomic<int> started{0}, completed{0}, ok{0};
  std::promise<void> all_done;
  ClientOptions options;
  options.max_idle_per_pool = 32;
  std::optional<HttpClient> client(std::in_place, options);
  std::function<void()> next = [&] {
    if (started.fetch_add(1) >= kTotal) return;
    client->post(to(receiver), [&](DeliveryResult r) {
      if (r.status == 200) ++ok;
      if (++completed == kTotal) all_done.set_value();
      next();
    });
  };
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kWindow; ++i) next();
  bool finished = all_done.get_future().wait_for(60s) == std::future_status::ready;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  client.reset();  // before `next`, which the last callbacks still call
  ASSERT_TRUE(finished);
  EXPECT_EQ(ok.load(), kTotal);
  std::printf("[ throughput ] %d deliveries in %.2f s = %.0f deliveries/s over %d connections\n",
              kTotal, seconds, kTotal / seconds, receiver.connections());
}

}  // namespace
}  // namespace portico::http_client
