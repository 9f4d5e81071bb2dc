// The pipeline with asynchronous stages (plugin API 2.0): auth schemes, rate-limit policies and
// handlers that answer later from another thread, or at once; the worker pool; timeouts and
// clients leaving; exactly one answer whatever races.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <sstream>
#include <thread>

#include "core/pipeline/snapshot.hpp"
#include "core/pipeline/worker_pool.hpp"
#include "portico/sdk/routes.hpp"

namespace portico::pipeline {
namespace {

using namespace std::chrono_literals;

std::string code_of(const Response& response) {
  return nlohmann::json::parse(response.body).value("code", "");
}

// Answers on a thread of its own after `delay`, or at once (on the caller's thread) when zero.
template <class T>
void answer_later(Completion<T> done, T value, std::chrono::milliseconds delay) {
  if (delay == 0ms) return done(std::move(value));
  std::thread([done, value = std::move(value), delay]() mutable {
    std::this_thread::sleep_for(delay);
    done(std::move(value));
  }).detach();
}

class LaterAuth final : public AuthScheme {
 public:
  explicit LaterAuth(std::chrono::milliseconds delay) : delay_(delay) {}
  AuthResult authenticate(const Request&) override { throw std::logic_error("not called"); }
  void authenticate_async(const Request& request, Completion<AuthResult> done) override {
    if (!request.header("X-API-Key")) return answer_later(done, AuthResult::not_mine(), delay_);
    auto who = std::make_shared<Identity>();
    who->partner_id = "ptr_later";
    who->tier = "basic";
    answer_later(done, AuthResult::authenticated(who), delay_);
  }

 private:
  std::chrono::milliseconds delay_;
};

class LaterPolicy final : public RateLimitPolicy {
 public:
  explicit LaterPolicy(std::int64_t allowed) : allowed_(allowed) {}
  RateLimitDecision acquire(std::string_view, const RateLimitQuota&,
                            std::chrono::system_clock::time_point) override {
    throw std::logic_error("not called");
  }
  void acquire_async(std::string_view, const RateLimitQuota& quota,
                     std::chrono::system_clock::time_point,
                     Completion<RateLimitDecision> done) override {
    const std::int64_t n = ++count_;
    RateLimitDecision d{n <= allowed_, quota.limit, std::max<std::int64_t>(allowed_ - n, 0), 60s,
                        n <= allowed_ ? 0s : 30s};
    answer_later(done, d, 5ms);
  }

 private:
  std::int64_t allowed_;
  std::atomic<std::int64_t> count_{0};
};

struct AsyncPipeline : ::testing::Test {
  Snapshot snapshot;
  void SetUp() override { snapshot.stages = standard_stages(); }
  void add(Route route) { snapshot.router.add(std::move(route), "test"); }
  // A public route: no authentication stage in the way.
  void add_open(Route route) {
    route.authenticated = false;
    add(std::move(route));
  }
  Response call(const std::string& path, HeaderList headers = {{"X-API-Key", "k"}}) {
    Request r;
    r.method = "GET";
    r.path = path;
    r.headers = std::move(headers);
    return snapshot.handle(r);
  }
};

TEST_F(AsyncPipeline, AnAuthSchemeAnsweringLaterFromAnotherThread) {
  LaterAuth auth(20ms);
  snapshot.auth_schemes.push_back(&auth);
  add(sdk::route("GET", "/me", "", [](const Request& r) {
    return Response::json(200, {{"partner", r.identity->partner_id}});
  }));
  Response ok = call("/me");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(nlohmann::json::parse(ok.body)["partner"], "ptr_later");
  Response refused = call("/me", {});
  EXPECT_EQ(refused.status, 401);
  EXPECT_TRUE(refused.header("WWW-Authenticate"));
}

TEST_F(AsyncPipeline, AnAuthSchemeAnsweringAtOnceInsideTheCall) {
  LaterAuth auth(0ms);
  snapshot.auth_schemes.push_back(&auth);
  add(sdk::route("GET", "/me", "", [](const Request&) { return Response::json(200, {}); }));
  EXPECT_EQ(call("/me").status, 200);
  EXPECT_EQ(call("/me", {}).status, 401);
}

TEST_F(AsyncPipeline, ARateLimitPolicyAnsweringLaterSetsItsHeadersAndRefuses) {
  LaterAuth auth(0ms);
  LaterPolicy policy(2);
  snapshot.auth_schemes.push_back(&auth);
  snapshot.ratelimit = &policy;
  add(sdk::route("GET", "/x", "", [](const Request&) { return Response::json(200, {}); }));
  Response first = call("/x");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("X-RateLimit-Remaining").value_or(""), "1");
  EXPECT_EQ(call("/x").status, 200);
  Response third = call("/x");
  EXPECT_EQ(third.status, 429);
  EXPECT_EQ(code_of(third), "rate_limited");
  EXPECT_EQ(third.header("Retry-After").value_or(""), "30");
}

TEST_F(AsyncPipeline, AnAsyncHandlerAnswersFromAnotherThreadOrFails) {
  add_open(sdk::async_route("GET", "/later", "", [](const Request&, Reply reply) {
    answer_later(reply, Answer(Response::json(202, {{"later", true}})), 10ms);
  }));
  add_open(sdk::async_route("GET", "/problem", "", [](const Request&, Reply reply) {
    Problem p;
    p.status = 409;
    p.code = "conflict";
    p.title = "Conflict";
    reply.fail(std::make_exception_ptr(ProblemError(p)));
  }));
  add_open(sdk::async_route("GET", "/forgotten", "", [](const Request&, Reply) {}));
  EXPECT_EQ(call("/later").status, 202);
  Response problem = call("/problem");
  EXPECT_EQ(problem.status, 409);
  EXPECT_EQ(code_of(problem), "conflict");
  // A reply dropped without an answer is a 500 at once, not a request that hangs.
  Response forgotten = call("/forgotten");
  EXPECT_EQ(forgotten.status, 500);
  EXPECT_EQ(code_of(forgotten), "internal_error");
}

// A SharedResponse is answered as it is, every time, with the gateway's own headers added beside
// it; one that carries a gateway header (X-Request-Id here) is copied to drop it, never changed.
TEST_F(AsyncPipeline, ASharedResponseIsAnsweredAsItIsAndNeverChanged) {
  auto cached = std::make_shared<Response>();
  cached->status = 200;
  cached->body = R"({"cached":true})";
  cached->headers = {{"ETag", "\"v1\""}};
  SharedResponse shared = cached;
  auto tagged = std::make_shared<Response>(*cached);
  tagged->headers.emplace_back("X-Request-Id", "req_from_the_cache");
  SharedResponse shared_tagged = tagged;
  add_open(sdk::async_route("GET", "/cached", "", [shared](const Request&, Reply reply) {
    reply(shared);
  }));
  add_open(sdk::async_route("GET", "/tagged", "", [shared_tagged](const Request&, Reply reply) {
    reply(shared_tagged);
  }));
  for (int i = 0; i < 2; ++i) {
    Response got = call("/cached");
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body, R"({"cached":true})");
    EXPECT_EQ(*got.header("ETag"), "\"v1\"");
    EXPECT_TRUE(got.header("X-Request-Id"));
  }
  Response got = call("/tagged", {{"X-Request-Id", "req_caller"}});
  EXPECT_EQ(*got.header("X-Request-Id"), "req_caller");
  EXPECT_EQ(std::count_if(got.headers.begin(), got.headers.end(),
                          [](const auto& h) { return h.first == "X-Request-Id"; }),
            1);
  EXPECT_EQ(tagged->headers.back().second, "req_from_the_cache") << "the shared one changed";
  EXPECT_EQ(cached->headers.size(), 1u);
  // A null SharedResponse is the handler's bug: refused where it is made, a 500 here.
  add_open(sdk::async_route("GET", "/null", "", [](const Request&, Reply reply) {
    reply.run([] { return Answer(SharedResponse()); });
  }));
  EXPECT_EQ(call("/null").status, 500);
}

TEST_F(AsyncPipeline, BlockingHandlersRunOnTheWorkerPoolUnlessTheySayIoThread) {
  WorkerPool pool(2);
  snapshot.workers = &pool;
  Route worker = sdk::route("GET", "/worker", "", [](const Request&) {
    std::ostringstream id;
    id << std::this_thread::get_id();
    return Response::json(200, {{"thread", id.str()}});
  });
  Route inline_route = worker;
  inline_route.path = "/inline";
  inline_route.run_on = RunOn::io_thread;
  worker.authenticated = inline_route.authenticated = false;
  add(worker);
  add(inline_route);
  std::ostringstream here;
  here << std::this_thread::get_id();
  EXPECT_NE(nlohmann::json::parse(call("/worker").body)["thread"], here.str());
  EXPECT_EQ(nlohmann::json::parse(call("/inline").body)["thread"], here.str());
}

// start_request as the HTTP layer uses it.
struct Answers {
  std::mutex mutex;
  std::vector<Response> responses;
  Respond respond() {
    return [this](Answer&& answer, std::string_view core_headers) {
      // The gateway's own lines (rate limit, X-Request-Id) as headers, for the assertions.
      Response r = std::move(answer).take();
      HeaderLines::append_to(r.headers, core_headers);
      std::lock_guard lock(mutex);
      responses.push_back(std::move(r));
    };
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return responses.size();
  }
};

// A request whose handler parks its reply: the test answers (or not) when it likes.
struct ParkedRequest {
  Answers answers;
  std::shared_ptr<PendingRequest> pending;
  Reply reply;
  explicit ParkedRequest(AsyncPipeline& fixture) {
    std::promise<Reply> parked;
    fixture.add_open(sdk::async_route("GET", "/slow", "", [&parked](const Request&, Reply r) {
      parked.set_value(r);
    }));
    std::shared_ptr<const Snapshot> shared(std::shared_ptr<const Snapshot>(), &fixture.snapshot);
    Request request;
    request.method = "GET";
    request.path = "/slow";
    pending = start_request(shared, std::make_shared<Request>(std::move(request)), answers.respond());
    reply = parked.get_future().get();
  }
};

TEST_F(AsyncPipeline, ATimeoutAnswers504CancelsTheHandlerAndDropsItsLateAnswer) {
  ParkedRequest parked(*this);
  auto& [answers, pending, reply] = parked;
  EXPECT_EQ(answers.count(), 0u);
  pending->timed_out();
  ASSERT_EQ(answers.count(), 1u);
  EXPECT_EQ(answers.responses[0].status, 504);
  EXPECT_EQ(code_of(answers.responses[0]), "handler_timeout");
  EXPECT_TRUE(answers.responses[0].header("X-Request-Id"));
  EXPECT_TRUE(reply.cancelled());
  reply(Response::json(200, {}));  // late: dropped
  pending->client_gone();          // answered already: nothing
  EXPECT_EQ(answers.count(), 1u);
}

TEST_F(AsyncPipeline, AClientLeavingCancelsAndIsRecordedAs499) {
  ParkedRequest parked(*this);
  auto& [answers, pending, reply] = parked;
  bool told = false;
  reply.on_cancel([&] { told = true; });
  pending->client_gone();
  EXPECT_TRUE(told);
  EXPECT_TRUE(reply.cancelled());
  ASSERT_EQ(answers.count(), 1u);
  EXPECT_EQ(answers.responses[0].status, 499);
}

// The answer and the timeout racing on two threads: exactly one response, every time.
TEST_F(AsyncPipeline, AnAnswerRacingTheTimeoutGivesExactlyOneResponse) {
  WorkerPool pool(2);
  snapshot.workers = &pool;
  Route route = sdk::route("GET", "/race", "", [](const Request&) { return Response::json(200, {}); });
  route.authenticated = false;
  add(route);
  std::shared_ptr<const Snapshot> shared(std::shared_ptr<const Snapshot>(), &snapshot);
  int answered_200 = 0, timed_out = 0;
  for (int i = 0; i < 500; ++i) {
    Answers answers;
    Request request;
    request.method = "GET";
    request.path = "/race";
    auto pending = start_request(shared, std::make_shared<Request>(std::move(request)), answers.respond());
    pending->timed_out();
    for (int wait = 0; wait < 1000 && answers.count() == 0; ++wait) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    ASSERT_EQ(answers.count(), 1u) << "round " << i;
    (answers.responses[0].status == 200 ? answered_200 : timed_out)++;
  }
  EXPECT_EQ(answered_200 + timed_out, 500);
  pool.shutdown();  // every parked task has run before `answers` of the rounds are gone
}

TEST(WorkerPool, RunsTasksOnItsThreadsAndDrainsOnShutdown) {
  WorkerPool pool(3);
  EXPECT_EQ(pool.threads(), 3u);
  std::atomic<int> ran{0};
  std::atomic<bool> on_caller{false};
  const auto caller = std::this_thread::get_id();
  for (int i = 0; i < 200; ++i) {
    pool.post([&] {
      if (std::this_thread::get_id() == caller) on_caller = true;
      ran++;
    });
  }
  pool.shutdown();
  EXPECT_EQ(ran.load(), 200);
  EXPECT_FALSE(on_caller.load());
  pool.post([&] { ran++; });  // after shutdown: run here rather than lost
  EXPECT_EQ(ran.load(), 201);
}

TEST(WorkerPool, ATaskThatThrowsIsReportedAndTheWorkerGoesOn) {
  std::mutex mutex;
  std::vector<std::string> errors;
  WorkerPool pool(1, [&](std::string_view e) {
    std::lock_guard lock(mutex);
    errors.emplace_back(e);
  });
  std::atomic<int> ran{0};
  pool.post([] { throw std::runtime_error("boom"); });
  pool.post([&] { ran++; });
  pool.shutdown();
  EXPECT_EQ(ran.load(), 1);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "a worker task failed: boom");
}

// The queue is a ring that grows while a worker is held up: tasks still start in the order they
// were posted, across its growth and its wrapping round.
TEST(WorkerPool, TasksStartInTheOrderPostedAsTheQueueGrowsAndWraps) {
  WorkerPool pool(1);
  std::mutex mutex;
  std::vector<int> order;
  for (int round = 0; round < 3; ++round) {
    std::promise<void> gate;
    std::shared_future<void> open = gate.get_future().share();
    pool.post([open] { open.wait(); });  // the one worker waits: the next tasks queue up
    for (int spins = 0; spins < 5000 && pool.busy() == 0; ++spins) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const int count = 10 + round * 45;  // 10 (no growth), 55 and 100 (growth, from a wrapped head)
    for (int i = 0; i < count; ++i) {
      pool.post([&, i] {
        std::lock_guard lock(mutex);
        order.push_back(i);
      });
    }
    EXPECT_EQ(pool.queued(), static_cast<std::size_t>(count));
    gate.set_value();
    for (int spins = 0; spins < 5000 && pool.queued() + pool.busy() > 0; ++spins) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::lock_guard lock(mutex);
    ASSERT_EQ(order.size(), static_cast<std::size_t>(count)) << "round " << round;
    for (int i = 0; i < count; ++i) ASSERT_EQ(order[static_cast<std::size_t>(i)], i);
    order.clear();
  }
}

TEST(WorkerPool, DefaultSizeLeavesRoomForBlockedTasks) {
  EXPECT_GE(WorkerPool::default_size(), 8u);
}

}  // namespace
}  // namespace portico::pipeline
