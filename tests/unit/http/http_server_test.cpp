// The listener's own writing and timing, on a real loopback socket with a handler that answers
// at once: a response bigger than the socket takes in one send, a client that stops reading, a
// long run of pipelined requests, many connections asking at once, and a header deadline that comes
// sooner than the idle one the connection's timer was armed for; and the reads that track the
// socket's readiness (one read a request, a client closing its side with its request, requests
// trickled or bigger than a read).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/http/http_server.hpp"
#include "core/http/readiness_read.hpp"

namespace portico::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The server on its own thread, answering every request at once with `body_for(path)` and one
// header line of the gateway's own (X-Core). `seen`, when given, gets each request first. As the
// pipeline's requests do, what the handler returns holds the request until its response is written.
class Server {
 public:
  using Seen = std::function<void(const std::shared_ptr<Request>&)>;
  explicit Server(HttpServerOptions options, std::function<std::string(const std::string&)> body_for,
                  Seen seen = nullptr)
      : body_for_(std::move(body_for)), seen_(std::move(seen)) {
    options.listen = {"127.0.0.1", 0};
    server_ = std::make_unique<HttpServer>(
        std::vector<boost::asio::io_context*>{&io_}, std::move(options),
        [this](std::shared_ptr<Request> request, pipeline::Respond respond) {
          if (seen_) seen_(request);
          Response response;
          response.status = 200;
          response.content_type = "text/plain";
          response.body = body_for_(request->path);
          respond(std::move(response), "X-Core: yes\r\n");
          return std::make_shared<Holding>(std::move(request));
        });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_->port(); }
  std::size_t open_connections() const { return server_->open_connections(); }

 private:
  struct Holding final : pipeline::PendingRequest {
    explicit Holding(std::shared_ptr<Request> request) : request(std::move(request)) {}
    void client_gone() override {}
    void timed_out() override {}
    std::shared_ptr<Request> request;
  };

  boost::asio::io_context io_{1};
  std::function<std::string(const std::string&)> body_for_;
  Seen seen_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

class Client {
 public:
  explicit Client(std::uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
    }
  }
  ~Client() { ::close(fd_); }

  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }

  // `bytes` and the FIN in one segment: corked, the kernel holds the bytes and tacks the FIN on.
  void send_with_fin(const std::string& bytes) {
    int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
    send(bytes);
    shutdown_send();
  }

  void send(const std::string& bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      const auto n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << "send failed";
      at += static_cast<std::size_t>(n);
    }
  }

  // Reads until `want` bytes have come or `limit` passes; fewer, and a failure, on a short read.
  std::string read_exactly(std::size_t want, Clock::duration limit = 10s) {
    const auto until = Clock::now() + limit;
    while (pending_.size() < want && Clock::now() < until && fill()) {
    }
    EXPECT_GE(pending_.size(), want) << "the response ended early or took too long";
    std::string got = pending_.substr(0, want);
    pending_.erase(0, got.size());
    return got;
  }

  // One response: the head up to the blank line, then Content-Length bytes of body.
  std::pair<std::string, std::string> read_response() {
    const auto until = Clock::now() + 10s;
    while (pending_.find("\r\n\r\n") == std::string::npos && Clock::now() < until && fill()) {
    }
    const auto end = pending_.find("\r\n\r\n");
    if (end == std::string::npos) {
      ADD_FAILURE() << "no complete response head";
      return {};
    }
    std::string head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    const auto at = head.find("Content-Length: ");
    if (at == std::string::npos) return {head, ""};
    return {head, read_exactly(std::stoul(head.substr(at + 16)))};
  }

  // Waits for the server to close: recv returns 0 or fails (unread data is read and dropped).
  bool closed_by_peer(Clock::duration limit) {
    const auto until = Clock::now() + limit;
    char buf[65536];
    while (Clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
    }
    return false;
  }

 private:
  // Appends what the socket has (waiting up to 100 ms); false once the peer has closed.
  bool fill() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) return true;
    char buf[65536];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string pending_;  // read, not yet taken
};

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

// What a server's handler saw of each request: the object, its path and the room its target and
// body had; and the request to "/keep", held past its answer as a slow handler would.
class Recorder {
 public:
  struct Seen {
    const Request* request;
    std::string path;
    std::size_t target_room;
    std::size_t body_room;
  };
  Server::Seen callback() {
    return [this](const std::shared_ptr<Request>& request) {
      std::lock_guard lock(mutex_);
      seen_.push_back(
          {request.get(), request->path, request->target.capacity(), request->body.capacity()});
      if (request->path == "/keep") kept_ = request;
    };
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::shared_ptr<Request> kept() {
    std::lock_guard lock(mutex_);
    return kept_;
  }

 private:
  std::mutex mutex_;
  std::vector<Seen> seen_;
  std::shared_ptr<Request> kept_;
};

std::string echo_path(const std::string& path) {
  return path;
}

// A connection fills one Request for request after request (its memory kept), but never one that
// something still holds — a handler that kept it past its answer — which stays as it was.
TEST(HttpServerRequests, AConnectionReusesItsRequestUnlessSomethingStillHoldsIt) {
  Recorder recorder;
  Server server({}, echo_path, recorder.callback());
  Client client(server.port());
  for (const char* path : {"/a", "/b", "/keep", "/c", "/d"}) {
    client.send(get(path));
    EXPECT_EQ(client.read_response().second, path);
  }
  const auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[1].request, seen[0].request)
      << "the second request did not reuse the first one's Request";
  EXPECT_EQ(seen[2].request, seen[0].request);
  EXPECT_NE(seen[3].request, seen[2].request) << "a Request still held was filled again";
  EXPECT_EQ(seen[4].request, seen[3].request);
  EXPECT_EQ(recorder.kept()->path, "/keep");
  EXPECT_EQ(recorder.kept()->target, "/keep");
}

// A connection holds a request's state only while it has a request in hand: connections of one
// thread asking in turn are all served with the same Request (and reader and response), however
// many there are — and one that something still holds is not handed to the next connection. The
// same Request, not a new one at the same address: its target keeps the room of the first one's.
TEST(HttpServerRequests, ConnectionsAskingInTurnShareOneRequestStateNoneHeldBetweenRequests) {
  Recorder recorder;
  Server server({}, echo_path, recorder.callback());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 16; ++i) clients.push_back(std::make_unique<Client>(server.port()));
  const std::string first = "/first-" + std::string(100, 'f');
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      const std::string path =
          round == 0 && i == 0 ? first : "/r" + std::to_string(round) + "c" + std::to_string(i);
      clients[i]->send(get(path));
      EXPECT_EQ(clients[i]->read_response().second, path);
    }
  }
  clients[3]->send(get("/keep"));
  EXPECT_EQ(clients[3]->read_response().second, "/keep");
  clients[4]->send(get("/next"));
  EXPECT_EQ(clients[4]->read_response().second, "/next");
  const auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 34u);
  for (std::size_t i = 1; i < 33; ++i) {
    EXPECT_EQ(seen[i].request, seen[0].request) << seen[i].path << " had a Request of its own";
    EXPECT_GE(seen[i].target_room, first.size()) << seen[i].path << " had a new Request";
  }
  EXPECT_NE(seen[33].request, seen[32].request)
      << "a Request still held went to another connection";
  EXPECT_LT(seen[33].target_room, first.size());
  EXPECT_EQ(recorder.kept()->path, "/keep");
  EXPECT_EQ(recorder.kept()->target, "/keep");
}

// A pooled request state lives as long as its thread: the room of a large body goes back to the
// heap with the request, not to the next one (a small body's room is kept). The next connection
// gets the same Request, not a new one: its target keeps the room of the first one's.
TEST(HttpServerRequests, APooledRequestKeepsNoLargeBodysRoom) {
  Recorder recorder;
  Server server({}, echo_path, recorder.callback());
  const auto post = [](const std::string& path, const std::string& body) {
    return "POST " + path +
           " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
  };
  const std::string small = "/small-" + std::string(100, 's');
  Client first(server.port());
  first.send(post(small, std::string(100, 's')));
  EXPECT_EQ(first.read_response().second, small);
  first.send(post("/large", pattern(300 * 1024)));
  EXPECT_EQ(first.read_response().second, "/large");
  Client second(server.port());
  second.send(post("/after", std::string(100, 'a')));
  EXPECT_EQ(second.read_response().second, "/after");
  second.send(post("/again", std::string(100, 'b')));
  EXPECT_EQ(second.read_response().second, "/again");
  const auto seen = recorder.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[2].request, seen[1].request);
  EXPECT_GE(seen[2].target_room, small.size())
      << "the next connection did not get the same Request";
  EXPECT_GE(seen[1].body_room, 300u * 1024);
  EXPECT_LT(seen[2].body_room, 64u * 1024) << "a 300 KiB body's room was kept in the pool";
  EXPECT_EQ(seen[3].body_room, seen[2].body_room) << "a small body's room was not kept";
}

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
  options.idle_timeout = 20s;  // the timer is first armed for this ...
  options.header_timeout = 300ms;  // ... and must be moved sooner when a request starts
  Server server(options, [](const std::string&) { return "ok"; });
  Client client(server.port());
  client.send(get("/first"));
  EXPECT_EQ(client.read_response().second, "ok");
  std::this_thread::sleep_for(100ms);  // idle, within idle_timeout
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
