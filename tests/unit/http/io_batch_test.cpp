// The requests a loop reads in one turn come in with one io_uring call and the responses it writes
// go out with one more (core/http/io_batch.hpp); without io_uring, or with batch_sends or
// batch_reads off, each is a system call of its own — the same bytes either way.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "core/http/io_batch.hpp"
#include "core/http/readiness_read.hpp"
#include "tests/unit/http/loopback_server.hpp"

namespace portico::http {
namespace {

using namespace loopback;

// The loop counts a batch right after the system call that sent it, and a turn's yield after
// that, so a client may have read the answers a moment before they are counted: such a count is
// read once it stops moving (unchanged over 50 ms).
std::uint64_t settled(std::uint64_t (*count)()) {
  std::uint64_t last = count();
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(50ms);
    const std::uint64_t now = count();
    if (now == last) break;
    last = now;
  }
  return last;
}

struct Counts {
  std::uint64_t sends = 0;
  std::uint64_t batches = 0;  // with sends in them
  std::uint64_t reads = 0;    // counted before their answers are sent
  std::uint64_t read_batches = 0;
  Counts() {
    sends = settled(IoBatch::batched_sends);
    batches = IoBatch::send_batches();  // counted before the sends
    reads = IoBatch::batched_reads();
    read_batches = IoBatch::read_batches();
  }
};

// Rounds of requests on many connections at once; every answer is the connection's own.
void ask_rounds(const std::vector<std::unique_ptr<Client>>& clients, int rounds) {
  const int clients_count = static_cast<int>(clients.size());
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

// The same on `clients_count` new connections.
void ask_in_rounds(Server& server, int clients_count, int rounds) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < clients_count; ++c)
    clients.push_back(std::make_unique<Client>(server.port()));
  ask_rounds(clients, rounds);
}

// The loop is held up by one slow answer while the other connections' requests arrive; they are
// then read together, in one system call, and their answers leave together in one more.
TEST(IoBatch, RequestsOfOneTurnComeInWithOneSystemCallAndTheirAnswersLeaveWithOne) {
  ASSERT_EQ(io_batching_refusal(), "") << "io_uring is refused on this host";
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
  EXPECT_EQ(after.reads - before.reads, kOthers + 1u);
  // The slow request and its answer, then the others' — in one batch each way, or split by the
  // epoll turns the requests came in.
  EXPECT_LE(after.batches - before.batches, 3u);
  EXPECT_GE(after.batches - before.batches, 2u);
  EXPECT_LE(after.read_batches - before.read_batches, 3u);
  EXPECT_GE(after.read_batches - before.read_batches, 2u);
}

TEST(IoBatch, ManyConnectionsInRoundsAllGoThroughTheRing) {
  ASSERT_EQ(io_batching_refusal(), "") << "io_uring is refused on this host";
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
  IoBatch::refuse_rings(refuse_rings);
  {
    boost::asio::io_context io(1);
    IoBatch& batch = IoBatch::of(io);
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
  IoBatch::refuse_rings(false);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(IoBatch, QueuedSendsLeaveWhenTheLoopRunsAndTheLoopKeepsItsRing) {
  ASSERT_EQ(io_batching_refusal(), "") << "io_uring is refused on this host";
  const Counts before;
  sends_on_a_pair(/*refuse_rings=*/false, /*usable_after=*/true);
  EXPECT_EQ(IoBatch::batched_sends() - before.sends, 2u);
  EXPECT_EQ(IoBatch::send_batches() - before.batches, 1u);
}

TEST(IoBatch, ALoopRefusedARingSendsItsFirstBatchAloneThenStopsQueueing) {
  const Counts before;
  sends_on_a_pair(/*refuse_rings=*/true, /*usable_after=*/false);
  EXPECT_EQ(IoBatch::batched_sends(), before.sends);
}

// A host that refuses io_uring (a seccomp profile, kernel.io_uring_disabled): the loop's first
// batch finds out and reads and sends one system call each; later reads and answers are made at
// once.
TEST(IoBatch, WithoutIoUringEveryAnswerIsSentOnItsOwn) {
  IoBatch::refuse_rings(true);
  {
    Server server({}, [](const std::string& path) { return path.substr(1); });
    const Counts before;
    ask_in_rounds(server, 30, 10);
    const Counts after;
    EXPECT_EQ(after.sends, before.sends);
    EXPECT_EQ(after.batches, before.batches);
    EXPECT_EQ(after.reads, before.reads);
  }
  IoBatch::refuse_rings(false);
}

// More than the socket takes at once: the batch sends what it can, the rest is written
// asynchronously, and the next request on the connection is answered as usual.
TEST(IoBatch, AnAnswerLargerThanTheSocketTakesIsFinishedAfterTheBatch) {
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

// Every request of every round read through the ring, in fewer calls than reads, and the flushes
// queued just before the loop polls epoll (Asio's scheduler internals found: see io_batch.cpp).
TEST(IoBatch, ReadsOfManyConnectionsGoThroughTheRingBeforeTheNextPoll) {
  ASSERT_EQ(io_batching_refusal(), "") << "io_uring is refused on this host";
  ASSERT_TRUE(ReadinessRead::available());
  Server server({}, [](const std::string& path) { return path.substr(1); });
  const Counts before;
  const auto before_poll = IoBatch::flushes_before_poll();
  ask_in_rounds(server, 30, 20);
  const Counts after;
  EXPECT_GE(after.reads - before.reads, 30u * 20u);  // and the few that found a socket empty
  EXPECT_LT(after.read_batches - before.read_batches, after.reads - before.reads);
  EXPECT_GT(IoBatch::flushes_before_poll() - before_poll, 0u);
}

// 30 connections asking 10 rounds with batch_sends and batch_reads as given: the sends and the
// reads that went through a batch (the reads at least one a request, when on).
std::pair<std::uint64_t, std::uint64_t> batched_with(bool sends, bool reads) {
  HttpServerOptions options;
  options.batch_sends = sends;
  options.batch_reads = reads;
  Server server(options, [](const std::string& path) { return path.substr(1); });
  const Counts before;
  ask_in_rounds(server, 30, 10);
  const Counts after;
  return {after.sends - before.sends, after.reads - before.reads};
}

TEST(IoBatch, EachOptionTurnsItsOwnSideOff) {
  const auto [sends, reads] = batched_with(/*sends=*/true, /*reads=*/false);
  EXPECT_EQ(sends, 30u * 10u);
  EXPECT_EQ(reads, 0u);
  const auto [sends_off, reads_on] = batched_with(/*sends=*/false, /*reads=*/true);
  EXPECT_EQ(sends_off, 0u);
  EXPECT_GE(reads_on, 30u * 10u);
  EXPECT_EQ(batched_with(false, false), std::make_pair(std::uint64_t{0}, std::uint64_t{0}));
}

// 30 connections, each answered once, on a loop that yields below `yield_below` connections; then
// `closed` of them close and the others ask 10 rounds: the turns of the rounds that ended giving up
// the core.
std::uint64_t yields_with(std::size_t yield_below, int closed = 0) {
  HttpServerOptions options;
  options.yield_below_connections = yield_below;
  Server server(options, [](const std::string& path) { return path.substr(1); });
  constexpr int kClients = 30;
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::make_unique<Client>(server.port()));
    clients.back()->send(get("/warm"));
    EXPECT_EQ(clients.back()->read_response().second, "warm");
  }
  EXPECT_EQ(server.open_connections(), std::size_t{kClients});
  clients.resize(kClients - closed);
  for (int i = 0; i < 200 && server.open_connections() != clients.size(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server.open_connections(), clients.size());
  const std::uint64_t before = settled(IoBatch::yields);
  ask_rounds(clients, 10);
  return settled(IoBatch::yields) - before;
}

TEST(IoBatch, ALoopWithFewerConnectionsThanTheSettingGivesUpItsCoreAfterEachTurn) {
  ASSERT_EQ(io_batching_refusal(), "") << "io_uring is refused on this host";
  EXPECT_GE(yields_with(31), 10u);  // every turn, and each round took one at least
  EXPECT_EQ(yields_with(30), 0u);   // 30 open: not fewer
  EXPECT_GE(yields_with(30, /*closed=*/1), 10u);  // a closed connection leaves the loop's count
  EXPECT_EQ(yields_with(0), 0u);    // never
}

// A read queued with the batch on a TCP connection of its own loop: what the batch's recv
// returned — bytes, nothing yet, the peer's close — becomes the read's completion.
class PairRead {
 public:
  PairRead() {
    peer_.connect(acceptor_.local_endpoint());
    acceptor_.accept(server_);
    server_.non_blocking(true);
    attached_ = read_.attach(server_);
    read_.read_through(&IoBatch::of(io_));
  }
  bool attached() const { return attached_; }
  void start() {
    done_ = false;
    read_.start(keep_, this, &PairRead::on_read, boost::asio::buffer(buffer_));
  }
  static void on_read(void* target, const boost::system::error_code& ec, std::size_t n) {
    auto& self = *static_cast<PairRead*>(target);
    self.done_ = true;
    self.ec_ = ec;
    self.got_.assign(self.buffer_.data(), n);
  }
  // Runs the loop until the read completes, for at most `limit`.
  bool complete(std::chrono::milliseconds limit = 2s) {
    for (auto waited = 0ms; waited < limit && !done_; waited += 10ms) {
      io_.run_for(10ms);
      io_.restart();
    }
    return done_;
  }
  void send(const std::string& bytes) { boost::asio::write(peer_, boost::asio::buffer(bytes)); }

  // The read outlives the io_context, whose destruction may still complete (abandon) it.
  std::shared_ptr<int> keep_ = std::make_shared<int>(0);
  ReadinessRead read_;
  std::array<char, 64> buffer_{};
  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  boost::asio::ip::tcp::socket server_{io_};
  boost::asio::ip::tcp::socket peer_{io_};
  bool attached_ = false;
  bool done_ = false;
  boost::system::error_code ec_;
  std::string got_;
};

TEST(IoBatch, AQueuedReadGetsTheBytesThenWaitsWhenTheSocketIsEmptyThenSeesTheClose) {
  ASSERT_EQ(io_batching_refusal(), "") << "io_uring is refused on this host";
  PairRead pair;
  ASSERT_TRUE(pair.attached());
  pair.send("hello");
  const Counts before;
  pair.start();
  ASSERT_TRUE(pair.complete());
  EXPECT_FALSE(pair.ec_);
  EXPECT_EQ(pair.got_, "hello");
  EXPECT_EQ(IoBatch::batched_reads() - before.reads, 1u);

  // A fresh read tries at once only when the last one may have left bytes: "hello" filled less
  // than the buffer, so this one waits for epoll — and completes once the peer sends.
  const auto empty_before = ReadinessRead::would_block_reads();
  pair.start();
  EXPECT_FALSE(pair.complete(200ms));
  pair.send("again");
  ASSERT_TRUE(pair.complete());
  EXPECT_EQ(pair.got_, "again");
  EXPECT_EQ(ReadinessRead::would_block_reads(), empty_before);

  pair.peer_.shutdown(boost::asio::ip::tcp::socket::shutdown_send);
  pair.start();
  ASSERT_TRUE(pair.complete());
  EXPECT_EQ(pair.ec_, boost::asio::error::eof);
}

// A read the batch made on a socket that had nothing after all (a spurious readiness): the read
// waits for epoll again instead of completing empty.
TEST(IoBatch, AReadThatFindsTheSocketEmptyWaitsForEpoll) {
  PairRead pair;
  ASSERT_TRUE(pair.attached());
  const auto empty_before = ReadinessRead::would_block_reads();
  pair.start();  // a new socket is read at once: nothing there
  EXPECT_FALSE(pair.complete(200ms));
  EXPECT_EQ(ReadinessRead::would_block_reads() - empty_before, 1u);
  pair.send("late");
  ASSERT_TRUE(pair.complete());
  EXPECT_FALSE(pair.ec_);
  EXPECT_EQ(pair.got_, "late");
}

// The connection closes between its read being queued and the batch: the read ends aborted, and
// nothing is read from whatever socket may have the number by then.
TEST(IoBatch, AReadWhoseSocketClosedBeforeTheBatchEndsAborted) {
  PairRead pair;
  ASSERT_TRUE(pair.attached());
  pair.send("unread");
  pair.start();  // queued with the batch once the loop runs
  pair.server_.close();
  ASSERT_TRUE(pair.complete());
  EXPECT_EQ(pair.ec_, boost::asio::error::operation_aborted);
  EXPECT_EQ(pair.got_, "");
}

// The loop is destroyed with a read queued with the batch: the read lets go of what it kept,
// without its call.
TEST(IoBatch, AReadQueuedWhenTheLoopIsDestroyedLetsGoWithoutACall) {
  std::weak_ptr<int> kept;
  bool called = false;
  {
    PairRead pair;
    ASSERT_TRUE(pair.attached());
    kept = pair.keep_;
    pair.send("bytes");
    pair.start();
    pair.keep_.reset();  // the read holds the only reference now
    EXPECT_FALSE(kept.expired());
    pair.io_.run_one();  // the read is queued with the batch; the flush is not run
    called = pair.done_;
  }
  EXPECT_FALSE(called);
  EXPECT_TRUE(kept.expired());
}

}  // namespace
}  // namespace portico::http
