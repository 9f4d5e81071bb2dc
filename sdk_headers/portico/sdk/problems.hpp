// Problem shortcuts with the stable codes of the partner contract. Throw the result:
//   throw sdk::not_found("no product prod_42");
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "portico/problem.hpp"

namespace portico::sdk {

inline ProblemError problem(int status, std::string code, std::string title, std::string detail,
                            std::vector<FieldError> errors = {}) {
  return ProblemError(
      Problem{status, std::move(code), std::move(title), std::move(detail), std::move(errors), {}});
}
inline ProblemError invalid_request(std::string detail, std::vector<FieldError> errors = {}) {
  return problem(400, "invalid_request", "Invalid request", std::move(detail), std::move(errors));
}
inline ProblemError not_found(std::string detail) {
  return problem(404, "not_found", "Not found", std::move(detail));
}
inline ProblemError conflict(std::string code, std::string detail,
                             std::vector<FieldError> errors = {}) {
  return problem(409, std::move(code), "Conflict", std::move(detail), std::move(errors));
}
inline ProblemError unauthorized(std::string detail) {
  return problem(401, "unauthorized", "Unauthorized", std::move(detail));
}

}  // namespace portico::sdk
