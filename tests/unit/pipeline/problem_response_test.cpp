// problem_response writes the common problem (plain text, no field errors) straight into its body;
// the bytes must be the ones nlohmann::json writes for the same object, which every other problem
// still goes through.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/pipeline/problems.hpp"

namespace portico::pipeline {
namespace {

std::string reference_body(const Problem& p, std::string_view request_id) {
  nlohmann::json body = {{"type", "urn:portico:problem:" + p.code},
                         {"title", p.title},
                         {"status", p.status},
                         {"detail", p.detail},
                         {"code", p.code},
                         {"request_id", request_id}};
  if (!p.errors.empty()) {
    auto& errors = body["errors"] = nlohmann::json::array();
    for (const auto& e : p.errors) errors.push_back({{"field", e.field}, {"message", e.message}});
  }
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Problem problem(int status, std::string code, std::string title, std::string detail) {
  Problem p;
  p.status = status;
  p.code = std::move(code);
  p.title = std::move(title);
  p.detail = std::move(detail);
  return p;
}

TEST(ProblemResponse, PlainProblemsAreTheBytesNlohmannWrites) {
  const std::vector<Problem> problems = {
      problem(401, "unauthorized", "Unauthorized", "The API key is missing, invalid, expired or revoked."),
      problem(404, "not_found", "Not found", "No product with id 'prod_1'."),
      problem(429, "rate_limited", "Too many requests", ""),
      problem(500, "", "", ""),
  };
  for (const auto& p : problems) {
    const Response r = problem_response(p, "req_abc");
    EXPECT_EQ(r.body, reference_body(p, "req_abc")) << p.code;
    EXPECT_EQ(r.status, p.status);
    EXPECT_EQ(r.content_type, "application/problem+json");
  }
}

TEST(ProblemResponse, EscapesAndFieldErrorsStillGoThroughTheJsonLibrary) {
  Problem quoted = problem(400, "invalid_request", "Invalid request",
                           "status must be \"active\" or \\ \n\t\x01 \xc3\xa9 \xff");
  Problem fields = problem(400, "invalid_request", "Invalid request", "See errors.");
  fields.errors.push_back({"items[0].quantity", "must be at least 1"});
  for (const auto& p : {quoted, fields}) {
    EXPECT_EQ(problem_response(p, "req_x").body, reference_body(p, "req_x"));
  }
  EXPECT_EQ(problem_response(problem(401, "unauthorized", "Unauthorized", "x"), "id\"quoted").body,
            reference_body(problem(401, "unauthorized", "Unauthorized", "x"), "id\"quoted"));
}

TEST(ProblemResponse, HeadersOfTheProblemAreKept) {
  Problem p = problem(429, "rate_limited", "Too many requests", "Slow down.");
  p.headers.emplace_back("Retry-After", "7");
  const Response r = problem_response(p, "req_1");
  ASSERT_TRUE(r.header("Retry-After"));
  EXPECT_EQ(*r.header("Retry-After"), "7");
}

// problem_answer: the same response, in one the thread takes back once it has been sent and
// writes the next problem over — nothing of the last one shows through.
TEST(ProblemAnswer, IsTheProblemResponseInARecycledResponse) {
  Problem limited = problem(429, "rate_limited", "Too many requests", "Slow down.");
  limited.headers.emplace_back("Retry-After", "7");
  limited.headers.emplace_back("X-Extra", "a value longer than the short string buffer");
  limited.headers.emplace_back("retry-after", "8");  // a later one of a name replaces the first
  const Response expected = problem_response(limited, "req_1");
  ASSERT_EQ(expected.headers.size(), 2u);
  EXPECT_EQ(*expected.header("Retry-After"), "8");

  Answer first = problem_answer(limited, "req_1");
  ASSERT_TRUE(first.shared());
  const Response* object = first.shared().get();
  EXPECT_EQ(first.response().status, 429);
  EXPECT_EQ(first.response().content_type, expected.content_type);
  EXPECT_EQ(first.response().headers, expected.headers);
  EXPECT_EQ(first.response().body, expected.body);
  first = Answer();  // sent: back to this thread's pool

  Problem refused = problem(401, "unauthorized", "Unauthorized", "No.");
  Answer second = problem_answer(refused, "req_2");
  EXPECT_EQ(second.shared().get(), object) << "the pool's response was not reused";
  EXPECT_TRUE(second.response().headers.empty());
  EXPECT_EQ(second.response().body, problem_response(refused, "req_2").body);
  EXPECT_EQ(second.response().status, 401);
}

// A shared problem (an auth scheme's one refusal): rendered once per thread, the request id written
// into it per answer — the same bytes, status and headers as problem_response, for problems that
// take the plain path and problems that do not, alternating so the thread's one rendering is
// replaced every time, and for request ids that need escaping.
TEST(ProblemAnswer, ASharedProblemIsTheSameAnswerEveryTime) {
  auto refusal = std::make_shared<const Problem>([] {
    Problem p = problem(401, "unauthorized", "Unauthorized",
                        "The API key is missing, invalid, expired or revoked.");
    p.headers.emplace_back("WWW-Authenticate", "ApiKey header=\"X-API-Key\"");
    return p;
  }());
  auto escaped = std::make_shared<const Problem>(
      problem(403, "forbidden", "Forbidden", "not \"yours\" \xc3\xa9 \x01"));
  auto empty = std::make_shared<const Problem>(problem(500, "", "", ""));
  const std::vector<std::string> ids = {"req_1", "req_00000000000000000000000002", "", "id\"q\\"};
  for (int round = 0; round < 3; ++round) {
    for (const auto& shared : {refusal, escaped, empty, refusal, refusal}) {
      for (const auto& id : ids) {
        const Response expected = problem_response(*shared, id);
        Answer answer = problem_answer(shared, id);
        EXPECT_EQ(answer.response().body, expected.body) << shared->code << " " << id;
        EXPECT_EQ(answer.response().status, expected.status);
        EXPECT_EQ(answer.response().content_type, expected.content_type);
        EXPECT_EQ(answer.response().headers, expected.headers);
      }
    }
  }
}

// The thread keeps copies, never the problem: a plugin's refusal must not outlive the plugin (a
// reload unloads its library while the I/O threads go on).
TEST(ProblemAnswer, ASharedProblemIsNotKeptAlive) {
  auto refusal =
      std::make_shared<const Problem>(problem(401, "unauthorized", "Unauthorized", "No."));
  std::weak_ptr<const Problem> watched = refusal;
  Answer answer = problem_answer(refusal, "req_1");
  refusal.reset();
  EXPECT_TRUE(watched.expired());
  EXPECT_EQ(answer.response().body,
            problem_response(problem(401, "unauthorized", "Unauthorized", "No."), "req_1").body);
}

}  // namespace
}  // namespace portico::pipeline
