#include "core/pipeline/snapshot.hpp"

#include "core/pipeline/problems.hpp"
#include "core/pipeline/request_id.hpp"

namespace portico::pipeline {

// Defined in rate_limit_stage.cpp: gives a 304's request back to the rate-limit policy and shows
// the refunded remaining figure in the headers the stage added.
void refund_not_modified(Exchange& exchange, const Response& response);

namespace {

// Usage counts every response an authenticated partner got on a matched route. After
// authentication the only 429 the core produces is the tier rate limit's.
void report_usage(const Snapshot& snapshot, const Exchange& exchange, const Response& response) {
  const auto& identity = exchange.request.identity;
  if (!snapshot.usage || !identity || !exchange.route) return;
  const Route& route = exchange.route->route;
  std::string label;
  label.reserve(route.method.size() + 1 + route.path.size());
  label.append(route.method).append(" ").append(route.path);
  snapshot.usage->record(identity->partner_id, label, response.status, response.status == 429);
}

}  // namespace

const config::SecurityConfig& security_settings(const Snapshot& snapshot) {
  static const config::SecurityConfig defaults;
  return snapshot.config ? snapshot.config->security : defaults;
}

Response Snapshot::handle(Request& request) const {
  const auto received_at = std::chrono::steady_clock::now();
  if (request.request_id.empty())
    request.request_id = request_id_for(request.header("X-Request-Id"));
  Exchange exchange{request, *this, nullptr, std::nullopt, {}};
  Response response;
  try {
    for (const auto& stage : stages) {
      if (stage->run(exchange) == StageStatus::Respond) break;
    }
    response = exchange.response ? std::move(*exchange.response)
                                 : problem_response(internal_error(), request.request_id);
  } catch (const ProblemError& error) {
    response = problem_response(error.problem(), request.request_id);
  } catch (const std::exception& error) {
    if (on_internal_error) on_internal_error(request, error.what());
    response = problem_response(error_problem(error), request.request_id);
  }
  // A 304 does not count against the rate limit (CONTRACT, Caching).
  try {
    refund_not_modified(exchange, response);
  } catch (const std::exception& error) {
    if (on_warning) on_warning(std::string("rate-limit refund failed: ") + error.what());
  }
  for (auto& [name, value] : exchange.response_headers) response.set_header(name, value);
  response.set_header("X-Request-Id", request.request_id);
  try {
    report_usage(*this, exchange, response);
  } catch (const std::exception& error) {
    // Losing one usage count must not turn a served response into an error.
    if (on_warning) on_warning(std::string("usage not recorded: ") + error.what());
  }
  if (observer) {
    try {
      observer->observe(
          {request, exchange.route, response, std::chrono::steady_clock::now() - received_at});
    } catch (const std::exception& error) {
      if (on_warning) on_warning(std::string("request not observed: ") + error.what());
    }
  }
  return response;
}

}  // namespace portico::pipeline
