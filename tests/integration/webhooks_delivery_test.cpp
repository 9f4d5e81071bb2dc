// Webhook delivery through the real binary, end to end: an endpoint on a loopback receiver gets a
// webhook.test event; the gateway is killed with SIGKILL while that request is on the wire (the
// receiver never answers it), restarted on the same database, and the event still arrives (same
// webhook-id, at least once) and is recorded as a successful attempt.
//
// The receiver is a few lines of raw sockets in a thread (no Beast in this binary). libsodium is
// not linked into integration_tests, so the signature is checked for its form only; the unit tests
// of webhook_delivery verify signatures byte for byte.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/gateway_fixture.hpp"
#include "tests/integration/products_helpers.hpp"

namespace portico::test::webhooks_delivery {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using Clock = std::chrono::steady_clock;
using products::Admin;

struct Received {
  std::string id;
  std::string timestamp;
  std::string signature;
  std::string content_type;
  std::string target;
  std::string body;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

// A loopback HTTP receiver: every connection gets one request read (headers + Content-Length
// body) and recorded; then, depending on the mode, it is either left hanging (never answered,
// held until the peer goes away or the receiver stops) or answered 200 and closed.
class Receiver {
 public:
  Receiver() : port_(free_port()) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 64) != 0) {
      ::close(fd_);
      throw std::runtime_error("receiver cannot listen on 127.0.0.1:" + std::to_string(port_));
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~Receiver() {
    stopping_ = true;
    cv_.notify_all();
    acceptor_.join();
    std::vector<std::thread> handlers;
    {
      std::lock_guard lock(mutex_);
      handlers.swap(handlers_);
    }
    for (auto& t : handlers) t.join();
    ::close(fd_);
  }

  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::uint16_t port() const { return port_; }
  void set_hang(bool hang) { hang_ = hang; }

  std::vector<Received> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int answered_200() const { return answered_200_; }

  // Waits until `pred` holds for the recorded requests (true), or `timeout` passes (false).
  bool wait_for(const std::function<bool(const std::vector<Received>&)>& pred,
                std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return pred(requests_); });
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::lock_guard lock(mutex_);
      handlers_.emplace_back([this, client] {
        handle(client);
        ::close(client);
      });
    }
  }

  // Reads more bytes into `buffer`; false on EOF, error, or stop.
  bool read_more(int fd, std::string& buffer) {
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, 50);
      if (ready < 0) return false;
      if (ready == 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  }

  void handle(int fd) {
    std::string buffer;
    std::size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more(fd, buffer)) return;
    }
    std::map<std::string, std::string> headers;
    Received r;
    std::size_t line_start = 0;
    bool first = true;
    while (line_start < header_end) {
      std::size_t line_end = buffer.find("\r\n", line_start);
      std::string line = buffer.substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      if (first) {
        first = false;
        auto sp1 = line.find(' ');
        auto sp2 = line.find(' ', sp1 + 1);
        if (sp1 != std::string::npos) r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        continue;
      }
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
    }
    std::size_t length = 0;
    if (headers.count("content-length")) length = std::stoul(headers["content-length"]);
    const std::size_t body_start = header_end + 4;
    while (buffer.size() < body_start + length) {
      if (!read_more(fd, buffer)) return;
    }
    r.body = buffer.substr(body_start, length);
    r.id = headers["webhook-id"];
    r.timestamp = headers["webhook-timestamp"];
    r.signature = headers["webhook-signature"];
    r.content_type = headers["content-type"];

    const bool hang = hang_;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(r);
    }
    cv_.notify_all();
    if (hang) {
      // Never answer: hold the connection until the gateway goes away or the test ends.
      std::string ignored;
      while (read_more(fd, ignored)) {
      }
      return;
    }
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (::send(fd, response.data(), response.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(response.size())) {
      ++answered_200_;
    }
  }

  std::uint16_t port_;
  int fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> hang_{true};
  std::atomic<int> answered_200_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::thread> handlers_;
  std::vector<Received> requests_;
};

HttpResponse call(Gateway& gw, const std::string& key, const std::string& method,
                  const std::string& target, const std::optional<json>& body = std::nullopt) {
  Headers headers{{"X-API-Key", key}};
  if (body) headers.emplace_back("Content-Type", "application/json");
  return http_request(gw.port, method, target, headers, body ? body->dump() : std::string());
}

std::size_t count_with_id(const std::vector<Received>& requests, const std::string& id) {
  return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(),
                                                [&](const Received& r) { return r.id == id; }));
}

void expect_well_formed(const Received& r, const std::string& event_id) {
  EXPECT_EQ(r.target, "/hook");
  EXPECT_EQ(r.id, event_id);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_FALSE(r.timestamp.empty());
  EXPECT_TRUE(!r.timestamp.empty() &&
              std::all_of(r.timestamp.begin(), r.timestamp.end(),
                          [](unsigned char c) { return std::isdigit(c) != 0; }))
      << r.timestamp;
  if (!r.timestamp.empty()) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const long long ts = std::stoll(r.timestamp);
    EXPECT_LE(std::llabs(now - ts), 60) << r.timestamp;
  }
  // Form only (no libsodium here): "v1,<base64 of 32 bytes>" first.
  EXPECT_TRUE(r.signature.starts_with("v1,")) << r.signature;
  const std::string first_sig = r.signature.substr(0, r.signature.find(' '));
  EXPECT_EQ(first_sig.size(), 3u + 44u) << r.signature;
  json body = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body.value("id", ""), event_id);
  EXPECT_EQ(body.value("type", ""), "webhook.test");
}

TEST(WebhookDelivery, Kill9MidDeliveryThenRestartTheEventStillArrives) {
  const auto started = Clock::now();
  Receiver receiver;
  Gateway gw({"--set", "security.client_ip_limit=1000000000", "--set",
              "plugins.routes_webhooks.allow_private_targets=true", "--set",
              "plugins.webhook_delivery.allow_private_targets=true", "--set",
              "plugins.webhook_delivery.poll_interval=20ms"});
  Admin admin{gw.admin_port};

  auto res =
      admin.call("POST", "/partners",
                 {{"name", "Hook Shop"}, {"tier", "premium"}, {"rate_limit_override", 1000000000}});
  ASSERT_EQ(res.status, 201) << res.body;
  const std::string partner_id = json::parse(res.body)["id"];
  res = admin.call("POST", "/partners/" + partner_id + "/keys", json::object());
  ASSERT_EQ(res.status, 201) << res.body;
  const std::string key = json::parse(res.body)["key"];

  const std::string url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook";
  res = call(gw, key, "POST", "/v1/webhooks", json{{"url", url}, {"events", {"*"}}});
  ASSERT_EQ(res.status, 201) << res.body;
  const json endpoint = json::parse(res.body);
  const std::string endpoint_id = endpoint["id"];
  const std::string secret = endpoint["secret"];
  EXPECT_TRUE(secret.starts_with("whsec_")) << secret;

  // The test event goes out; the receiver takes it and never answers.
  receiver.set_hang(true);
  res = call(gw, key, "POST", "/v1/webhooks/" + endpoint_id + "/test");
  ASSERT_EQ(res.status, 202) << res.body;
  const std::string event_id = json::parse(res.body).value("event_id", "");
  ASSERT_FALSE(event_id.empty()) << res.body;

  ASSERT_TRUE(receiver.wait_for(
      [&](const std::vector<Received>& rs) { return count_with_id(rs, event_id) >= 1; },
      std::chrono::seconds(5)))
      << "the event did not reach the receiver within 5 s; gateway output:\n"
      << gw.process->output();
  const auto before_kill = receiver.requests();
  ASSERT_EQ(before_kill.size(), 1u);
  expect_well_formed(before_kill[0], event_id);

  // Kill -9 while that request is on the wire.
  gw.process->signal(SIGKILL);
  EXPECT_EQ(gw.process->wait_exit(std::chrono::seconds(5)), 128 + SIGKILL);
  EXPECT_EQ(receiver.answered_200(), 0);

  // The receiver recovers; the gateway comes back on the same database.
  receiver.set_hang(false);
  gw.restart();

  ASSERT_TRUE(receiver.wait_for(
      [&](const std::vector<Received>& rs) { return count_with_id(rs, event_id) >= 2; },
      std::chrono::seconds(10)))
      << "the event was not redelivered within 10 s of the restart; gateway output:\n"
      << gw.process->output();
  const auto after_restart = receiver.requests();
  ASSERT_GE(after_restart.size(), 2u);
  expect_well_formed(after_restart[1], event_id);
  EXPECT_EQ(after_restart[1].body, before_kill[0].body) << "the payload bytes changed";
  for (const auto& r : after_restart) EXPECT_EQ(r.id, event_id) << "an unexpected event arrived";

  // The attempt log records the success (results are committed in batches: poll a little).
  json success;
  json log;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    res = call(gw, key, "GET", "/v1/webhooks/" + endpoint_id + "/deliveries?event_id=" + event_id);
    ASSERT_EQ(res.status, 200) << res.body;
    log = json::parse(res.body);
    for (const auto& attempt : log["data"]) {
      if (attempt["status_code"] == 200) success = attempt;
    }
    if (!success.is_null()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(success.is_null()) << "no successful attempt recorded: " << log.dump();
  EXPECT_EQ(success["event_id"], event_id);
  EXPECT_EQ(success["event_type"], "webhook.test");
  EXPECT_TRUE(success["error"].is_null()) << success.dump();
  EXPECT_EQ(success["delivery_state"], "succeeded") << success.dump();
  EXPECT_GE(receiver.answered_200(), 1);

  std::cout << "[ info     ] " << after_restart.size() << " requests received, "
            << log["data"].size() << " attempts logged, in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
            << " ms\n";
}

}  // namespace
}  // namespace portico::test::webhooks_delivery
