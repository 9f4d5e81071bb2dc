#include "core/pipeline/snapshot.hpp"

#include "core/pipeline/problems.hpp"
#include "core/pipeline/request_id.hpp"

namespace portico::pipeline {

Response Snapshot::handle(Request& request) const {
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
    response = problem_response(internal_error(), request.request_id);
  }
  for (auto& [name, value] : exchange.response_headers) response.set_header(name, value);
  response.set_header("X-Request-Id", request.request_id);
  return response;
}

}  // namespace portico::pipeline
