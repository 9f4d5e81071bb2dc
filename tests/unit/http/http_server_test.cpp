// The listener's own writing and timing, on a real loopback socket with a handler that answers
// at once: a response bigger than the socket takes in one send, a client that stops reading, a
// long run of pipelined requests, many connections asking at once, and a header deadline that comes
// sooner than the idle one the connection's timer was armed for; and the reads that track the
// socket's readiness (one read a request, a client closing its side with its request, requests
// trickled or bigger than a read).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/http/readiness_read.hpp"
#include "tests/unit/http/loopback_server.hpp"

namespace portico::http {
namespace {

using namespace std::chrono_literals;
using loopback::Client;
using loopback::Clock;
using loopback::get;
using loopback::pattern;
using loopback::Server;

TEST(HttpServerWrite, AResponseTheSocketCannotTakeAtOnceArrivesWholeAndTheConnectionGoesOn) {
  const std::string big = pattern(8 << 20);
  Server server({}, [&](const std::string& path) { return path == "/big" ? big : "small"; });
  Client client(server.port(), 64 << 10);
  client.send(get("/big"));
  std::this_thread::sleep_for(200ms);  // the socket fills; the rest waits for the client
  auto [head, body] = client.read_response();
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("\r\nX-Core: yes\r\n"), std::string::npos) << "the core lines: " << head;
  EXPECT_EQ(body.size(), big.size());
  EXPECT_TRUE(body == big) << "the body's bytes differ from what the handler answered";
  // After the write that finished asynchronously, the connection reads the next request.
  client.send(get("/small"));
  EXPECT_EQ(client.read_response().second, "small");
  client.send(get("/big"));
  EXPECT_TRUE(client.read_response().second == big);
}

// The request in flight (here a PendingRequest that notes its release) is held until its response
// is written, not only until it is answered: it keeps the snapshot — and the plugins whose shared
// answers the response may still hold — loaded while a slow client reads. Answered at once and
// answered later, from another thread.
TEST(HttpServerWrite, TheAnsweredRequestIsHeldUntilItsResponseIsWritten) {
  struct Noted final : pipeline::PendingRequest {
    explicit Noted(std::atomic<bool>& released) : released_(released) {}
    ~Noted() override { released_ = true; }
    void client_gone() override {}
    void timed_out() override {}
    std::atomic<bool>& released_;
  };
  const std::string big = pattern(8 << 20);
  for (const bool later : {false, true}) {
    std::atomic<bool> released{false};
    std::vector<std::thread> answering;
    boost::asio::io_context io{1};
    HttpServerOptions options;
    options.listen = {"127.0.0.1", 0};
    HttpServer server(std::vector<boost::asio::io_context*>{&io}, options,
                      [&](std::shared_ptr<Request>, pipeline::Respond respond) {
                        auto noted = std::make_shared<Noted>(released);
                        Response response;
                        response.content_type = "text/plain";
                        response.body = big;
                        if (!later) {
                          respond(std::move(response), "");
                        } else {
                          answering.emplace_back([respond = std::move(respond),
                                                  response = std::move(response)]() mutable {
                            std::this_thread::sleep_for(50ms);
                            respond(std::move(response), "");
                          });
                        }
                        return std::shared_ptr<pipeline::PendingRequest>(noted);
                      });
    server.start();
    std::thread loop([&] { io.run(); });
    {
      Client client(server.port(), 64 << 10);
      client.send(get("/big"));
      std::this_thread::sleep_for(300ms);  // answered; the socket is full, the rest waits
      EXPECT_FALSE(released) << (later ? "later: " : "at once: ")
                             << "released before its response was written";
      EXPECT_TRUE(client.read_response().second == big);
      const auto until = Clock::now() + 2s;
      while (!released && Clock::now() < until) std::this_thread::sleep_for(5ms);
      EXPECT_TRUE(released) << "still held after its response was written";
    }
    io.stop();
    loop.join();
    for (auto& t : answering) t.join();
  }
}

TEST(HttpServerWrite, AClientThatStopsReadingIsCutOffAfterTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = 300ms;
  const std::string big = pattern(32 << 20);
  Server server(options, [&](const std::string&) { return big; });
  Client client(server.port(), 64 << 10);
  client.send(get("/big"));
  const auto start = Clock::now();
  while (server.open_connections() == 0 && Clock::now() - start < 2s) {
    std::this_thread::sleep_for(5ms);
  }
  while (server.open_connections() > 0 && Clock::now() - start < 5s) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(server.open_connections(), 0u) << "the stalled write was never cut off";
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(HttpServerWrite, ThousandsOfPipelinedRequestsAreAnsweredInOrder) {
  Server server({}, [](const std::string& path) { return path.substr(1); });
  Client client(server.port());
  constexpr int kRequests = 5000;
  std::string all;
  for (int i = 0; i < kRequests; ++i) all += get("/" + std::to_string(i));
  std::thread sender([&] { client.send(all); });
  for (int i = 0; i < kRequests; ++i) {
    auto [head, body] = client.read_response();
    ASSERT_EQ(body, std::to_string(i)) << "response " << i;
  }
  sender.join();
}

// Many connections on one loop asking at once — their requests read in one turn of it — each get
// their own answer, in every round, and one that leaves meanwhile takes nothing of the others'.
TEST(HttpServerWrite, ManyConnectionsAskingAtOnceEachGetTheirOwn) {
  Server server({}, [](const std::string& path) { return path.substr(1); });
  constexpr int kClients = 40;
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < kClients; ++c) clients.push_back(std::make_unique<Client>(server.port()));
  for (int round = 0; round < 50; ++round) {
    for (int c = 0; c < kClients; ++c) {
      if (clients[c])
        clients[c]->send(get("/c" + std::to_string(c) + "-r" + std::to_string(round)));
    }
    if (round == 25) clients[7].reset();  // gone with its answer unread
    for (int c = 0; c < kClients; ++c) {
      if (!clients[c]) continue;
      auto [head, body] = clients[c]->read_response();
      ASSERT_EQ(body, "c" + std::to_string(c) + "-r" + std::to_string(round));
      ASSERT_NE(head.find("X-Core: yes\r\n"), std::string::npos);
    }
  }
}

// Between keep-alive requests the connection reads once a request: the read that found the socket
// empty after each response (Asio's speculative read) is gone — a short read means drained.
TEST(HttpServerRead, ARequestCostsOneReadNotOneMoreThatFindsTheSocketEmpty) {
  ASSERT_TRUE(ReadinessRead::available())
      << "built without readiness tracking: see readiness_read.hpp";
  Server server({}, [](const std::string& path) { return path.substr(1); });
  Client client(server.port());
  client.send(get("/warm"));
  EXPECT_EQ(client.read_response().second, "warm");
  const auto before = ReadinessRead::would_block_reads();
  constexpr int kRequests = 300;
  for (int i = 0; i < kRequests; ++i) {
    client.send(get("/" + std::to_string(i)));
    ASSERT_EQ(client.read_response().second, std::to_string(i));
  }
  const auto empty_reads = ReadinessRead::would_block_reads() - before;
  EXPECT_LT(empty_reads, 10u) << empty_reads << " reads found the socket empty in " << kRequests
                              << " requests";
}

// A FIN that comes with the request's bytes brings no further readiness: the connection must still
// see it and close once it has answered — not sit until its idle timeout. Also a FIN that comes
// later, and one after the answer.
TEST(HttpServerRead, AClientThatClosesItsSideIsAnsweredAndClosedAtOnce) {
  HttpServerOptions options;
  options.idle_timeout = 30s;
  Server server(options, [](const std::string& path) { return path.substr(1); });
  for (const auto pause : {-1ms, 0ms, 30ms}) {  // -1: in the request's segment
    Client client(server.port());
    client.send(get("/first"));
    EXPECT_EQ(client.read_response().second, "first");
    if (pause < 0ms) {
      client.send_with_fin(get("/with-fin"));
    } else {
      client.send(get("/with-fin"));
      std::this_thread::sleep_for(pause);
      client.shutdown_send();
    }
    EXPECT_EQ(client.read_response().second, "with-fin") << "pause " << pause.count() << " ms";
    const auto start = Clock::now();
    EXPECT_TRUE(client.closed_by_peer(5s));
    EXPECT_LT(Clock::now() - start, 2s) << "pause " << pause.count() << " ms: the FIN was missed";
  }
  {
    Client client(server.port());
    client.send(get("/then-fin"));
    EXPECT_EQ(client.read_response().second, "then-fin");
    client.shutdown_send();
    const auto start = Clock::now();
    EXPECT_TRUE(client.closed_by_peer(5s));
    EXPECT_LT(Clock::now() - start, 2s);
  }
  const auto start = Clock::now();
  while (server.open_connections() > 0 && Clock::now() - start < 5s) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server.open_connections(), 0u);
}

// Reads shorter than asked for at every step (a request sent a byte at a time), reads that fill
// the buffer (a header section longer than one read), and requests pipelined in one send.
TEST(HttpServerRead, TrickledLargeAndPipelinedRequestsAreRead) {
  Server server({}, [](const std::string& path) { return path.substr(1); });
  Client client(server.port());
  for (const char byte : get("/trickled")) {
    client.send(std::string(1, byte));
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(client.read_response().second, "trickled");
  for (const std::size_t pad : {4000u, 4096u, 9000u}) {
    client.send("GET /large HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(pad, 'p') + "\r\n\r\n");
    EXPECT_EQ(client.read_response().second, "large") << pad;
  }
  client.send(get("/one") + get("/two") + get("/three"));
  for (const char* body : {"one", "two", "three"}) EXPECT_EQ(client.read_response().second, body);
  client.send(get("/after"));
  EXPECT_EQ(client.read_response().second, "after");
}

TEST(HttpServerDeadline, AHeaderDeadlineSoonerThanTheArmedIdleOneStillCutsOff) {
  HttpServerOptions options;
  options.idle_timeout = 20s;      // the timer is first armed for this ...
  options.header_timeout = 300ms;  // ... and must be moved sooner when a request starts
  Server server(options, [](const std::string&) { return "ok"; });
  Client client(server.port());
  client.send(get("/first"));
  EXPECT_EQ(client.read_response().second, "ok");
  std::this_thread::sleep_for(100ms);                  // idle, within idle_timeout
  client.send("GET /second HTTP/1.1\r\nHost: x\r\n");  // never finished
  const auto start = Clock::now();
  EXPECT_TRUE(client.closed_by_peer(5s));
  EXPECT_LT(Clock::now() - start, 2s) << "cut off by the idle deadline, not the header one";
}

TEST(HttpServerDeadline, AnIdleConnectionIsClosedAfterTheIdleTimeoutButNotBefore) {
  HttpServerOptions options;
  options.idle_timeout = 400ms;
  options.header_timeout = 100ms;  // shorter: the timer fires early and re-arms for the idle one
  Server server(options, [](const std::string&) { return "ok"; });
  Client client(server.port());
  for (int i = 0; i < 3; ++i) {
    if (i > 0) std::this_thread::sleep_for(200ms);  // idle for half the timeout: still open
    client.send(get("/again"));
    EXPECT_EQ(client.read_response().second, "ok");
  }
  const auto start = Clock::now();
  EXPECT_TRUE(client.closed_by_peer(5s));
  const auto idle = Clock::now() - start;
  EXPECT_GT(idle, 300ms) << "closed before its idle timeout";
  EXPECT_LT(idle, 2s);
}

}  // namespace
}  // namespace portico::http
