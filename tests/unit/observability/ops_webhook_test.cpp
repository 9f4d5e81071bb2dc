// The ops webhook: Standard Webhooks signature, URL parsing, one signed POST to a local server, and
// an anomaly's figures as Observability sends them.
#include "core/observability/ops_webhook.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <map>
#include <thread>

#include "core/observability/observability.hpp"
#include "core/pipeline/client_guard.hpp"
#include "lib/webhook_signing/signing.hpp"

namespace portico::observability {
namespace {

using namespace std::chrono_literals;

TEST(OpsWebhook, SignatureMatchesTheStandardWebhooksExample) {
  EXPECT_EQ(
      webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                        1614265330, R"({"test": 2432232314})"),
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_THROW(webhook_signature("not-a-secret", "id", 1, "{}"), std::invalid_argument);
}

// The shared signer (lib/webhook_signing) refuses endpoint secrets under 24 bytes; an operator's
// ops secret never had that rule, and a config that worked keeps working.
TEST(OpsWebhook, AShortSecretStillSigns) {
  EXPECT_EQ(webhook_signature("whsec_YWJj", "msg_1", 1614265330, "{}"),
            webhooks::sign_v1("abc", "msg_1", 1614265330, "{}"));
  EXPECT_NO_THROW(OpsWebhook("http://127.0.0.1:1/x", "whsec_YWJj", {}));
  EXPECT_THROW(webhook_signature("whsec_", "id", 1, "{}"), std::invalid_argument);
}

TEST(OpsWebhook, OnlyPlainHttpUrlsAreAccepted) {
  auto t = parse_http_url("http://ops.internal:8080/hooks/portico?x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "ops.internal");
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(t->path, "/hooks/portico?x=1");
  auto bare = parse_http_url("http://[::1]");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->host, "::1");
  EXPECT_EQ(bare->port, 80);
  EXPECT_EQ(bare->path, "/");
  EXPECT_FALSE(parse_http_url("https://hooks.example.com/x"));
  EXPECT_FALSE(parse_http_url("http://user@host/x"));
  EXPECT_FALSE(parse_http_url("http://host:99999/"));
  EXPECT_FALSE(parse_http_url("http:///x"));
  EXPECT_THROW(OpsWebhook("https://hooks.example.com/x", "", {}), std::invalid_argument);
  EXPECT_THROW(OpsWebhook("http://127.0.0.1:1/x", "whsec_!!", {}), std::invalid_argument);
}

// Accepts one connection, reads one request, answers 204.
class OneShotServer {
 public:
  OneShotServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 1);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::string request() {
    thread_.join();
    thread_ = std::thread([] {});
    return request_;
  }

 private:
  void serve() {
    int client = ::accept(fd_, nullptr, nullptr);
    if (client < 0) return;
    char buffer[4096];
    while (true) {
      auto end = request_.find("\r\n\r\n");
      if (end != std::string::npos) {
        auto at = request_.find("Content-Length: ");
        std::size_t length = at == std::string::npos ? 0 : std::stoul(request_.substr(at + 16));
        if (request_.size() >= end + 4 + length) break;
      }
      ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      request_.append(buffer, static_cast<std::size_t>(n));
    }
    std::string reply = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
    ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(client);
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::string request_;
  std::thread thread_;
};

std::map<std::string, std::string> headers_of(const std::string& request) {
  std::map<std::string, std::string> headers;
  std::size_t pos = request.find("\r\n") + 2;
  while (true) {
    std::size_t end = request.find("\r\n", pos);
    if (end == pos || end == std::string::npos) break;
    std::string line = request.substr(pos, end - pos);
    auto colon = line.find(':');
    headers[line.substr(0, colon)] = line.substr(colon + 2);
    pos = end + 2;
  }
  return headers;
}

TEST(OpsWebhook, PostsASignedEventForEachAnomaly) {
  OneShotServer server;
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  OpsWebhook hook("http://127.0.0.1:" + std::to_string(server.port()) + "/ops", secret, {}, 5s,
                  [&] { return now; });
  hook.send("ops.anomaly", R"({"event":"anomaly","kind":"scanning"})");
  std::string request = server.request();
  for (int i = 0; i < 200 && hook.delivered() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(hook.delivered(), 1u);

  ASSERT_EQ(request.rfind("POST /ops HTTP/1.1\r\n", 0), 0u) << request;
  auto headers = headers_of(request);
  std::string body = request.substr(request.find("\r\n\r\n") + 4);
  auto event = nlohmann::json::parse(body);
  EXPECT_EQ(event["type"], "ops.anomaly");
  EXPECT_EQ(event["api_version"], "v1");
  EXPECT_EQ(event["data"]["object"]["kind"], "scanning");
  EXPECT_EQ(headers["webhook-id"], event["id"]);
  EXPECT_EQ(headers["webhook-timestamp"], "1800000000");
  EXPECT_EQ(headers["webhook-signature"],
            webhook_signature(secret, headers["webhook-id"], 1'800'000'000, body));
  EXPECT_EQ(headers["Content-Type"], "application/json");
}

TEST(OpsWebhook, AnAuthFailureBurstIsPostedWithWhatWasObservedOverWhichWindow) {
  OneShotServer server;
  ObservabilityOptions options;
  options.ops_webhook_url = "http://127.0.0.1:" + std::to_string(server.port()) + "/ops";
  options.warn = [](const std::string&) {};
  Observability obs(options);
  // As runtime.cpp wires them: the guard's lockout goes to Observability::on_lockout.
  pipeline::ClientGuard guard(std::chrono::steady_clock::now,
                              [&obs](const pipeline::Lockout& l) { obs.on_lockout(l); });
  config::SecurityConfig security;
  security.auth_failure_limit = 3;
  security.auth_failure_window = 45s;
  for (int i = 0; i < 3; ++i) guard.record_auth_failure("203.0.113.9", security);
  std::string request = server.request();
  auto event = nlohmann::json::parse(request.substr(request.find("\r\n\r\n") + 4));
  EXPECT_EQ(event["type"], "ops.anomaly");
  const auto& anomaly = event["data"]["object"];
  EXPECT_EQ(anomaly["kind"], "auth_failure_burst");
  EXPECT_EQ(anomaly["client_ip"], "203.0.113.9");
  EXPECT_EQ(anomaly["observed"], 3) << anomaly.dump();
  EXPECT_EQ(anomaly["window_seconds"], 45) << anomaly.dump();
}

TEST(OpsWebhook, AnUnreachableTargetCountsAFailureAndWarns) {
  // A port nobody listens on: bind one, then close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  std::mutex mutex;
  std::vector<std::string> warnings;
  OpsWebhook hook("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", "",
                  [&](const std::string& w) {
                    std::lock_guard lock(mutex);
                    warnings.push_back(w);
                  });
  hook.send("ops.anomaly", "{}");
  for (int i = 0; i < 200 && hook.failed() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(hook.failed(), 1u);
  std::lock_guard lock(mutex);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("cannot connect"), std::string::npos);
}

}  // namespace
}  // namespace portico::observability
