// RFC 9457 problems as plain values, and the exception that carries one out of a handler.
// The core turns a Problem into `application/problem+json` in exactly one place.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace portico {

struct FieldError {
  std::string field;  // e.g. "items[0].quantity"
  std::string message;
};

struct Problem {
  int status = 500;
  std::string code;    // stable snake_case: "not_found", "invalid_request", ...
  std::string title;   // short, human, stable per code
  std::string detail;  // this occurrence, for the partner
  std::vector<FieldError> errors;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Retry-After, Allow
};

// Thrown by plugins and core stages alike; caught once, where responses are written.
class ProblemError : public std::runtime_error {
 public:
  explicit ProblemError(Problem problem)
      : std::runtime_error(problem.code + ": " + problem.detail), problem_(std::move(problem)) {}
  const Problem& problem() const noexcept { return problem_; }

 private:
  Problem problem_;
};

}  // namespace portico
