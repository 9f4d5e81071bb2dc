// The access log (AccessLog): daily files by UTC date, batches across midnight and of many blocks
// whole and in order, writers waiting on a full batch and losing nothing, and a request through
// the real pipeline logged with every field and no secret. The line's format: access_line_test.cpp.
#include "core/observability/access_log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/observability/observability.hpp"
#include "core/pipeline/snapshot.hpp"
#include "core/pipeline/stages.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/observability/access_log_support.hpp"

namespace portico::observability {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using access_test::at;
using access_test::kKey;

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(AccessLog, LinesGoToOneFilePerUtcDay) {
  test::TempDir dir;
  {
    AccessLog log(dir.path() / "log");
    AccessRecord r;
    r.request_id = "late";
    r.method = "GET";
    r.path = "/";
    r.time = at("2026-03-04T23:59:59.999Z");
    log.write(r);
    r.request_id = "early";
    r.time = at("2026-03-05T00:00:00.000Z");
    log.write(r);
  }  // destruction writes what is queued
  auto day1 = lines_of(dir / "log/access-2026-03-04.jsonl");
  auto day2 = lines_of(dir / "log/access-2026-03-05.jsonl");
  ASSERT_EQ(day1.size(), 1u);
  ASSERT_EQ(day2.size(), 1u);
  EXPECT_EQ(json::parse(day1[0])["request_id"], "late");
  EXPECT_EQ(json::parse(day2[0])["request_id"], "early");
}

// One batch holding both days, interleaved as requests that began before midnight and end after
// it can be: each line goes to its own day's file, in the order written.
TEST(AccessLog, ABatchAcrossMidnightGoesToBothDaysInOrder) {
  test::TempDir dir;
  const char* times[] = {"2026-03-04T23:59:59.900Z", "2026-03-05T00:00:00.100Z",
                         "2026-03-04T23:59:59.950Z", "2026-03-05T00:00:00.200Z",
                         "2026-03-05T00:00:00.300Z"};
  {
    AccessLog log(dir.path() / "log");
    AccessRecord r;
    r.method = "GET";
    r.path = "/";
    for (int i = 0; i < 5; ++i) {
      std::string id = "req_" + std::to_string(i);
      r.request_id = id;
      r.time = at(times[i]);
      log.write(r);
    }
    log.flush();
    EXPECT_EQ(lines_of(dir / "log/access-2026-03-04.jsonl").size(), 2u);
    EXPECT_EQ(lines_of(dir / "log/access-2026-03-05.jsonl").size(), 3u);
    r.request_id = "req_5";
    r.time = at("2026-03-04T23:59:59.990Z");
    log.write(r);
  }  // destruction writes what is queued
  auto ids = [](const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (const auto& line : lines) out.push_back(json::parse(line)["request_id"]);
    return out;
  };
  EXPECT_EQ(ids(lines_of(dir / "log/access-2026-03-04.jsonl")),
            (std::vector<std::string>{"req_0", "req_2", "req_5"}));
  EXPECT_EQ(ids(lines_of(dir / "log/access-2026-03-05.jsonl")),
            (std::vector<std::string>{"req_1", "req_3", "req_4"}));
}

// A batch of many blocks' worth, its lines of uneven length and the day changing every few lines:
// every line reaches its day's file whole and in order, flushed or written at destruction.
TEST(AccessLog, ALargeBatchKeepsEveryLineWholeAndInOrder) {
  test::TempDir dir;
  std::vector<std::string> expected[2];
  {
    AccessLog log(dir.path() / "log");
    AccessRecord r;
    r.method = "GET";
    for (int i = 0; i < 6'000; ++i) {
      int day = (i / 7) % 2;
      std::string id = "req_" + std::to_string(i);
      std::string path = "/v1/" + std::string(static_cast<std::size_t>(i % 97) * 13, 'p');
      r.request_id = id;
      r.path = path;
      r.time = at(day == 0 ? "2026-03-04T23:59:59.500Z" : "2026-03-05T00:00:00.500Z");
      log.write(r);
      expected[day].push_back(id);
      if (i == 4'000) log.flush();
    }
  }
  for (int day = 0; day < 2; ++day) {
    auto lines =
        lines_of(dir / (day == 0 ? "log/access-2026-03-04.jsonl" : "log/access-2026-03-05.jsonl"));
    std::vector<std::string> ids;
    for (const auto& line : lines) ids.push_back(json::parse(line)["request_id"]);
    EXPECT_EQ(ids, expected[day]) << day;
  }
}

// Under a steady load whose batches vary in size, the blocks written go back to the lane and are
// taken again: after the first rounds, no new block however the batches differ.
TEST(AccessLog, ASteadyLoadOfVaryingBatchesTakesNoNewBlocks) {
  test::TempDir dir;
  AccessLog log(dir.path() / "log");
  AccessRecord r;
  r.method = "GET";
  r.time = at("2026-03-05T10:00:00.000Z");
  const std::string path = "/v1/" + std::string(1000, 'p');  // ~1.1 KB lines: ~55 a block
  r.path = path;
  const int rounds[] = {300, 520, 350, 520, 430};  // ~5 to ~9 blocks each
  auto cycle = [&] {
    for (const int lines : rounds) {
      for (int i = 0; i < lines; ++i) log.write(r);
      log.flush();  // one batch (or a few, when the writer's period falls inside the round)
    }
  };
  for (int i = 0; i < 3; ++i) cycle();
  const std::size_t warmed = log.blocks_made();
  EXPECT_GT(warmed, 4u);
  for (int i = 0; i < 6; ++i) cycle();
  EXPECT_EQ(log.blocks_made(), warmed) << "blocks taken from the heap under a steady load";
}

// `threads` threads each writing `lines` lines at once, request ids "<thread>_<line>".
void write_from_threads(AccessLog& log, int threads, int lines) {
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&log, t, lines] {
      for (int i = 0; i < lines; ++i) {
        std::string id = std::to_string(t) + "_" + std::to_string(i);
        AccessRecord r;
        r.request_id = id;
        r.method = "GET";
        r.path = "/";
        r.time = at("2026-03-05T10:00:00.000Z");
        log.write(r);
      }
    });
  }
  for (auto& writer : writers) writer.join();
}

TEST(AccessLog, AFullBatchMakesWritersWaitAndLosesNothing) {
  test::TempDir dir;
  constexpr int kThreads = 4;
  constexpr int kLines = 2'000;
  {
    AccessLog log(dir.path() / "log", 4096);  // a dozen lines: writers wait for the writer often
    write_from_threads(log, kThreads, kLines);
    log.flush();
    EXPECT_EQ(lines_of(dir / "log/access-2026-03-05.jsonl").size(),
              static_cast<std::size_t>(kThreads * kLines))
        << "flush() returns once every line written so far is in the file";
  }
  std::set<std::string> ids;
  for (const auto& line : lines_of(dir / "log/access-2026-03-05.jsonl")) {
    ids.insert(json::parse(line)["request_id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kLines));
}

// Each writing thread keeps to a lane of its own: whatever the interleaving in the file, every
// thread's lines are there in the order it wrote them — more threads than lanes included, and
// with the lanes full often (a small max_pending_bytes) or never.
TEST(AccessLog, EveryThreadsLinesKeepTheirOrder) {
  for (std::size_t max_pending : {std::size_t{2048}, std::size_t{16} << 20}) {
    test::TempDir dir;
    constexpr int kThreads = 12;
    constexpr int kLines = 1'500;
    {
      AccessLog log(dir.path() / "log", max_pending);
      write_from_threads(log, kThreads, kLines);
    }
    std::vector<int> next(kThreads, 0);
    std::size_t count = 0;
    for (const auto& line : lines_of(dir / "log/access-2026-03-05.jsonl")) {
      const std::string id = json::parse(line)["request_id"];
      const int t = std::stoi(id.substr(0, id.find('_')));
      const int i = std::stoi(id.substr(id.find('_') + 1));
      ASSERT_EQ(i, next[static_cast<std::size_t>(t)]) << "thread " << t << " out of order";
      ++next[static_cast<std::size_t>(t)];
      ++count;
    }
    EXPECT_EQ(count, static_cast<std::size_t>(kThreads * kLines)) << max_pending;
  }
}

// Not a pass/fail check: what a line costs its thread while two threads log at once (the I/O
// threads of a two-core gateway), each on its own lane.
TEST(AccessLog, ReportsTheCostOfALineWithTwoThreadsWriting) {
  test::TempDir dir;
  constexpr int kLines = 200'000;
  AccessLog log(dir.path() / "log");
  std::atomic<std::int64_t> total_ns{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&log, &total_ns] {
      AccessRecord r;
      r.request_id = "req_0123456789abcdef";
      r.partner_id = "ptr_a";
      r.key_id = "key_1";
      r.method = "GET";
      r.route = "/v1/products/{id}";
      r.path = "/v1/products/p";
      r.client_ip = "198.51.100.7";
      r.time = std::chrono::system_clock::now();
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < kLines; ++i) log.write(r);
      total_ns += std::chrono::nanoseconds(std::chrono::steady_clock::now() - start).count();
    });
  }
  for (auto& writer : writers) writer.join();
  std::cout << "[ cost ] a line with two threads writing: "
            << static_cast<double>(total_ns) / (2.0 * kLines) << " ns\n";
  SUCCEED();
}

TEST(AccessLog, UnwritableDirectoryFailsAtConstruction) {
  test::TempDir dir;
  auto blocker = dir.write("file", "not a directory");
  EXPECT_THROW(AccessLog(blocker / "log"), std::runtime_error);
}

// A request through the real pipeline with a given X-Request-Id: the line has every field and no
// credential, whatever the client sent.
class FixedKeyAuth final : public AuthScheme {
 public:
  AuthResult authenticate(const Request& request) override {
    auto key = request.header("X-API-Key");
    if (!key) return AuthResult::not_mine();
    auto who = std::make_shared<Identity>();
    who->partner_id = "ptr_acme";
    who->credential_id = "key_7";
    who->tier = "basic";
    return AuthResult::authenticated(who);
  }
};

TEST(AccessLog, PipelineRequestIsLoggedWithEveryFieldAndNoSecret) {
  test::TempDir dir;
  auto wall = at("2026-05-06T07:08:09.500Z");
  ObservabilityOptions options;
  options.log_dir = dir / "log";
  options.wall_clock = [&] { return wall; };
  auto obs = std::make_shared<Observability>(options);

  FixedKeyAuth auth;
  pipeline::Snapshot snapshot;
  snapshot.stages = pipeline::standard_stages();
  snapshot.auth_schemes.push_back(&auth);
  snapshot.observer = obs;
  Route route;
  route.method = "GET";
  route.path = "/v1/products/{id}";
  route.handler = [](const Request&) { return Response::json(200, {{"id", "p1"}}); };
  snapshot.router.add(route, "test");

  Request request;
  request.method = "GET";
  request.path = "/v1/products/p1";
  request.target = "/v1/products/p1?secret_query=1";
  request.query = "secret_query=1";
  request.client_ip = "198.51.100.23";
  request.headers = {{"X-Request-Id", "trace-abc-123"},
                     {"X-API-Key", kKey},
                     {"Authorization", "Bearer sekrit-token-value"},
                     {"User-Agent", std::string("acme-sync/2.1 (key ") + kKey + ")"}};
  Response response = snapshot.handle(request);
  ASSERT_EQ(response.status, 200);
  obs.reset();                // only the snapshot holds it now
  snapshot.observer.reset();  // last reference: drains the log

  auto lines = lines_of(dir / "log/access-2026-05-06.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  std::string line = lines[0];
  auto j = json::parse(line);
  for (const char* field : {"time", "request_id", "partner_id", "key_id", "method", "route", "path",
                            "status", "duration_ms", "bytes", "client_ip", "user_agent"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_EQ(j["request_id"], "trace-abc-123");
  EXPECT_EQ(j["partner_id"], "ptr_acme");
  EXPECT_EQ(j["key_id"], "key_7");
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["route"], "/v1/products/{id}");
  EXPECT_EQ(j["path"], "/v1/products/p1");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["bytes"], response.body.size());
  EXPECT_EQ(j["client_ip"], "198.51.100.23");
  EXPECT_GE(j["duration_ms"].get<double>(), 0.0);
  EXPECT_EQ(j["time"].get<std::string>().substr(0, 20), "2026-05-06T07:08:09.");
  EXPECT_EQ(j["user_agent"], "acme-sync/2.1 (key pk_live_[redacted])");
  EXPECT_EQ(line.find(kKey), std::string::npos);
  EXPECT_EQ(line.find("sekrit"), std::string::npos);
  EXPECT_EQ(line.find("secret_query"), std::string::npos);
  EXPECT_EQ(line.find("Authorization"), std::string::npos);
}

}  // namespace
}  // namespace portico::observability
