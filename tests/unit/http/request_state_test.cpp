// Request states leased from the I/O thread's pool (core/http/request_state.hpp) while a
// connection has a request in hand: the Request object reused request after request and across
// connections, never one something still holds, and no large body's room kept in the pool.

#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/unit/http/loopback_server.hpp"

namespace portico::http {
namespace {

using loopback::Client;
using loopback::get;
using loopback::pattern;
using loopback::Server;

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

}  // namespace
}  // namespace portico::http
