// Pipeline stages in the style of Envoy filters: each one either lets the request continue or
// finishes it. A stage may also throw ProblemError; the pipeline renders it in one place.
#pragma once

#include <optional>
#include <string_view>

#include "core/pipeline/router.hpp"
#include "portico/http_types.hpp"

namespace portico::pipeline {

struct Snapshot;

struct Exchange {
  Request& request;
  const Snapshot& snapshot;
  const RouteEntry* route = nullptr;
  std::optional<Response> response;  // set by the stage that finishes the request
  HeaderList response_headers;       // added to whatever response leaves (e.g. RateLimit-*)
};

enum class StageStatus { Continue, Respond };

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view name() const = 0;
  virtual StageStatus run(Exchange& exchange) const = 0;
};

}  // namespace portico::pipeline
