// What lib/http_client offers beyond webhook POSTs, for its other callers (the ops webhook, the
// CLI's admin client): any method, "Connection: close", the blocking send(), the response's
// Content-Type, a configurable body excerpt and whether the body was cut.
#include <gtest/gtest.h>

#include "lib/http_client/http_client.hpp"
#include "tests/support/http_receiver.hpp"

namespace portico::http_client {
namespace {

using namespace std::chrono_literals;
using webhooks::test::ReceivedRequest;
using webhooks::test::Receiver;
using webhooks::test::Reply;

OutgoingRequest to(const Receiver& receiver, std::string method, std::string target) {
  OutgoingRequest r;
  r.method = std::move(method);
  r.scheme = "http";
  r.host = "127.0.0.1";
  r.port = receiver.port();
  r.target = std::move(target);
  r.timeout = 5s;
  return r;
}

TEST(SharedClient, SendsAGetWithoutBodyHeadersAndClosesTheConnection) {
  const std::string big(5000, 'x');
  Receiver receiver([&](const ReceivedRequest&) {
    Reply reply;
    reply.headers = {{"Content-Type", "application/problem+json"}};
    reply.body = big;
    return reply;
  });
  ClientOptions options;
  options.user_agent = "portico-cli";
  options.body_excerpt = 1 << 20;
  HttpClient client(options);
  auto request = to(receiver, "GET", "/admin/partners?limit=2");
  request.keep_alive = false;
  request.headers = {{"Authorization", "Bearer t0ken"}, {"Accept", "application/json"}};
  DeliveryResult result = client.send(std::move(request));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.content_type, "application/problem+json");
  EXPECT_EQ(result.body_excerpt, big);
  EXPECT_FALSE(result.body_truncated);
  EXPECT_EQ(client.idle_connections(), 0u);

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& got = requests[0];
  EXPECT_EQ(got.method, "GET");
  EXPECT_EQ(got.target, "/admin/partners?limit=2");
  EXPECT_EQ(got.header("Connection"), "close");
  EXPECT_EQ(got.header("User-Agent"), "portico-cli");
  EXPECT_EQ(got.header("Authorization"), "Bearer t0ken");
  EXPECT_FALSE(got.header("Content-Length"));
  EXPECT_FALSE(got.header("Content-Type"));
}

TEST(SharedClient, SendsOtherMethodsWithTheirBody) {
  Receiver receiver([](const ReceivedRequest&) { return Reply{}; });
  HttpClient client({});
  auto request = to(receiver, "PATCH", "/admin/partners/p_1");
  request.body = R"({"name":"x"})";
  EXPECT_EQ(client.send(std::move(request)).status, 200);
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PATCH");
  EXPECT_EQ(requests[0].body, R"({"name":"x"})");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/json");
}

TEST(SharedClient, SaysWhenTheBodyWasLongerThanTheExcerpt) {
  Receiver receiver([](const ReceivedRequest&) {
    Reply reply;
    reply.body = std::string(3000, 'y');
    return reply;
  });
  HttpClient client({});
  DeliveryResult result = client.send(to(receiver, "POST", "/"));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body_excerpt, std::string(1024, 'y'));
  EXPECT_TRUE(result.body_truncated);
}

TEST(SharedClient, RefusesAMethodThatIsNotAToken) {
  Receiver receiver([](const ReceivedRequest&) { return Reply{}; });
  HttpClient client({});
  DeliveryResult result = client.send(to(receiver, "GET /x", "/"));
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.error, "invalid request: invalid method 'GET /x'");
  EXPECT_TRUE(receiver.requests().empty());
}

}  // namespace
}  // namespace portico::http_client
