// The access log: every CONTRACT field for a request with a given X-Request-Id, no secrets, daily
// files by UTC date.
#include "core/observability/access_log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <thread>
#include <vector>
#include <sstream>

#include "core/observability/observability.hpp"
#include "core/pipeline/stages.hpp"
#include "core/util/time.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/observability/observed_calls.hpp"

namespace portico::observability {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::chrono::system_clock::time_point at(const char* rfc3339) {
  return *util::parse_rfc3339(rfc3339);
}

const char* kKey = "pk_live_Z9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gFe";

TEST(AccessLine, HasEveryFieldInOrder) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07.089Z");
  r.request_id = "req-42";
  r.partner_id = "ptr_a";
  r.key_id = "key_1";
  r.method = "GET";
  r.route = "/v1/products/{id}";
  r.path = "/v1/products/p1";
  r.status = 200;
  r.duration = 1234567ns;
  r.bytes = 321;
  r.client_ip = "198.51.100.7";
  r.user_agent = "acme-sync/2.1";
  std::string line = format_access_line(r);
  EXPECT_EQ(line,
            R"({"time":"2026-03-04T05:06:07.089Z","request_id":"req-42","partner_id":"ptr_a",)"
            R"("key_id":"key_1","method":"GET","route":"/v1/products/{id}",)"
            R"("path":"/v1/products/p1","status":200,"duration_ms":1.235,"bytes":321,)"
            R"("client_ip":"198.51.100.7","user_agent":"acme-sync/2.1"})");
}

TEST(AccessLine, UnauthenticatedUnmatchedRequestHasNulls) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07Z");
  r.request_id = "req-1";
  r.method = "GET";
  r.path = "/nowhere";
  r.status = 404;
  auto j = json::parse(format_access_line(r));
  EXPECT_TRUE(j["partner_id"].is_null());
  EXPECT_TRUE(j["key_id"].is_null());
  EXPECT_TRUE(j["route"].is_null());
  EXPECT_EQ(j["user_agent"], "");
}

TEST(AccessLine, HostileTextStaysOneValidJsonLine) {
  AccessRecord r;
  r.time = at("2026-03-04T05:06:07Z");
  r.request_id = "req-1";
  r.method = "GET";
  r.path = "/a\"b\\c\n{}";
  const std::string agent("bad\xff\xfe utf8 \x01 and 한국어", 24);  // cut inside a character
  r.user_agent = agent;
  std::string line = format_access_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = json::parse(line);
  EXPECT_EQ(j["path"], "/a\"b\\c\n{}");
  EXPECT_NE(j["user_agent"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
}

TEST(AccessLine, KeyShapedTextIsRedacted) {
  EXPECT_EQ(redact_secrets(std::string("/v1/x/") + kKey + "/y"), "/v1/x/pk_live_[redacted]/y");
  EXPECT_EQ(redact_secrets("curl whsec_abc+/= pk_test_AbC"),
            "curl whsec_[redacted] pk_test_[redacted]");
  EXPECT_EQ(redact_secrets("nothing here"), "nothing here");
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

TEST(AccessLog, AFullBatchMakesWritersWaitAndLosesNothing) {
  test::TempDir dir;
  constexpr int kThreads = 4;
  constexpr int kLines = 2'000;
  {
    AccessLog log(dir.path() / "log", 4096);  // a dozen lines: writers wait for the writer often
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&log, t] {
        for (int i = 0; i < kLines; ++i) {
          std::string id = "req_" + std::to_string(t) + "_" + std::to_string(i);
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
