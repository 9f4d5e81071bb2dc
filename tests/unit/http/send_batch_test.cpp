// The responses a loop writes in one turn go out with one io_uring call (core/http/send_batch.hpp);
// without io_uring, or with batch_sends off, each is sent on its own — the same bytes either way.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/http/send_batch.hpp"
#include "tests/unit/http/loopback_server.hpp"

namespace portico::http {
namespace {

using namespace loopback;

// The loop counts a batch right after the system call that sent it, so a client may have read
// the answers a moment before they are counted: the counts are read once they stop moving.
struct Counts {
  std::uint64_t sends = 0;
  std::uint64_t batches = 0;
  Counts() {
    std::uint64_t last = SendBatch::batched_sends();
    for (int i = 0; i < 40; ++i) {  // settled: unchanged over 50 ms
      std::this_thread::sleep_for(50ms);
      const std::uint64_t now = SendBatch::batched_sends();
      if (now == last) break;
      last = now;
    }
    sends = last;
    batches = SendBatch::batches();  // counted before the sends
  }
};

// Rounds of requests on many connections at once; every answer is the connection's own.
void ask_in_rounds(Server& server, int clients_count, int rounds) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < clients_count; ++c)
    clients.push_back(std::make_unique<Client>(server.port()));
  for (int round = 0; round < rounds; ++round) {
    for (int c = 0; c < clients_count; ++c) {
      clients[c]->send(get("/c" + std::to_string(c) + "-r" + std::to_string(round)));
    }
    for (int c = 0; c < clients_count; ++c) {
      auto [head, body] = clients[c]->read_response();
      ASSERT_EQ(body, "c" + std::to_string(c) + "-r" + std::to_string(round));
      ASSERT_NE(head.find("X-Core: yes\r\n"), std::string::npos);
    }
  }
}

// The loop is held up by one slow answer while the other connections' requests arrive; they are
// then read in one turn, and their answers leave together: one batch for all of them.
TEST(SendBatch, AnswersOfOneTurnLeaveInOneSystemCall) {
  ASSERT_EQ(send_batching_refusal(), "") << "io_uring is refused on this host";
  Server server({}, [](const std::string& path) {
    if (path == "/slow") std::this_thread::sleep_for(300ms);
    return path.substr(1);
  });
  constexpr int kOthers = 20;
  Client slow(server.port());
  std::vector<std::unique_ptr<Client>> others;
  for (int c = 0; c < kOthers; ++c) others.push_back(std::make_unique<Client>(server.port()));
  // Every connection's first request, so each is accepted and reading before the slow one.
  for (int c = 0; c < kOthers; ++c) {
    others[c]->send(get("/warm"));
    EXPECT_EQ(others[c]->read_response().second, "warm");
  }
  slow.send(get("/x"));
  EXPECT_EQ(slow.read_response().second, "x");

  const Counts before;
  slow.send(get("/slow"));
  std::this_thread::sleep_for(100ms);  // the loop is inside the slow answer now
  for (int c = 0; c < kOthers; ++c) others[c]->send(get("/o" + std::to_string(c)));
  EXPECT_EQ(slow.read_response().second, "slow");
  for (int c = 0; c < kOthers; ++c) {
    EXPECT_EQ(others[c]->read_response().second, "o" + std::to_string(c));
  }
  const Counts after;
  EXPECT_EQ(after.sends - before.sends, kOthers + 1u);
  // The slow answer's batch, then the others' — in one, or split by the epoll turn they came in.
  EXPECT_LE(after.batches - before.batches, 3u);
  EXPECT_GE(after.batches - before.batches, 2u);
}

TEST(SendBatch, ManyConnectionsInRoundsAllGoThroughTheRing) {
  ASSERT_EQ(send_batching_refusal(), "") << "io_uring is refused on this host";
  Server server({}, [](const std::string& path) { return path.substr(1); });
  const Counts before;
  ask_in_rounds(server, 30, 20);
  const Counts after;
  EXPECT_EQ(after.sends - before.sends, 30u * 20u);
  EXPECT_LT(after.batches - before.batches, after.sends - before.sends);
}

// The batch itself, on a socket pair: a queued send goes out when the loop runs, and the loop
// keeps queueing only while it has a ring.
class PairSend final : public BatchedSend {
 public:
  explicit PairSend(int fd, std::string text) : fd_(fd), text_(std::move(text)) {
    iov_ = {text_.data(), text_.size()};
    message_.msg_iov = &iov_;
    message_.msg_iovlen = 1;
  }
  int batched_socket() override { return fd_; }
  const msghdr& batched_message() const override { return message_; }
  void batched_sent(int result) override { results.push_back(result); }
  std::vector<int> results;

 private:
  int fd_;
  std::string text_;
  iovec iov_{};
  msghdr message_{};
};

std::string read_all(int fd, std::size_t want) {
  std::string got(want, '\0');
  std::size_t at = 0;
  while (at < want) {
    const auto n = ::recv(fd, got.data() + at, want - at, 0);
    if (n <= 0) break;
    at += static_cast<std::size_t>(n);
  }
  got.resize(at);
  return got;
}

void sends_on_a_pair(bool refuse_rings, bool usable_after) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  SendBatch::refuse_rings(refuse_rings);
  {
    boost::asio::io_context io(1);
    SendBatch& batch = SendBatch::of(io);
    EXPECT_TRUE(batch.usable());  // until the first batch has tried
    auto first = std::make_shared<PairSend>(fds[0], "one ");
    auto second = std::make_shared<PairSend>(fds[0], "two");
    batch.add(first);
    batch.add(second);
    EXPECT_TRUE(first->results.empty());  // queued, not sent, until the loop runs
    io.run();
    EXPECT_EQ(first->results, std::vector<int>{4});
    EXPECT_EQ(second->results, std::vector<int>{3});
    EXPECT_EQ(read_all(fds[1], 7), "one two");
    EXPECT_EQ(batch.usable(), usable_after);
  }
  SendBatch::refuse_rings(false);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(SendBatch, QueuedSendsLeaveWhenTheLoopRunsAndTheLoopKeepsItsRing) {
  ASSERT_EQ(send_batching_refusal(), "") << "io_uring is refused on this host";
  const Counts before;
  sends_on_a_pair(/*refuse_rings=*/false, /*usable_after=*/true);
  EXPECT_EQ(SendBatch::batched_sends() - before.sends, 2u);
  EXPECT_EQ(SendBatch::batches() - before.batches, 1u);
}

TEST(SendBatch, ALoopRefusedARingSendsItsFirstBatchAloneThenStopsQueueing) {
  const Counts before;
  sends_on_a_pair(/*refuse_rings=*/true, /*usable_after=*/false);
  EXPECT_EQ(SendBatch::batched_sends(), before.sends);
}

// A host that refuses io_uring (a seccomp profile, kernel.io_uring_disabled): the loop's first
// batch finds out and sends its answers one sendmsg each; later answers are sent at once.
TEST(SendBatch, WithoutIoUringEveryAnswerIsSentOnItsOwn) {
  SendBatch::refuse_rings(true);
  {
    Server server({}, [](const std::string& path) { return path.substr(1); });
    const Counts before;
    ask_in_rounds(server, 30, 10);
    const Counts after;
    EXPECT_EQ(after.sends, before.sends);
    EXPECT_EQ(after.batches, before.batches);
  }
  SendBatch::refuse_rings(false);
}

TEST(SendBatch, OffInTheOptionsNothingIsBatched) {
  HttpServerOptions options;
  options.batch_sends = false;
  Server server(options, [](const std::string& path) { return path.substr(1); });
  const Counts before;
  ask_in_rounds(server, 30, 10);
  const Counts after;
  EXPECT_EQ(after.sends, before.sends);
}

// More than the socket takes at once: the batch sends what it can, the rest is written
// asynchronously, and the next request on the connection is answered as usual.
TEST(SendBatch, AnAnswerLargerThanTheSocketTakesIsFinishedAfterTheBatch) {
  const std::string large = pattern(4 << 20);
  Server server({}, [&](const std::string& path) { return path == "/large" ? large : "small"; });
  Client client(server.port(), 64 << 10);
  const Counts before;
  client.send(get("/large"));
  std::this_thread::sleep_for(100ms);  // the batch has gone out, the socket's buffer is full
  auto [head, body] = client.read_response();
  EXPECT_EQ(body.size(), large.size());
  EXPECT_TRUE(body == large);
  client.send(get("/next"));
  EXPECT_EQ(client.read_response().second, "small");
  const Counts after;  // the last batch may be counted just after the client read it
  EXPECT_EQ(after.sends - before.sends, 2u);
}

}  // namespace
}  // namespace portico::http
