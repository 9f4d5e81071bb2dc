// Where the pipeline reports every partner request once its response is known: metrics, the
// access log and abnormal-pattern detection. Implemented by core/observability, which the pipeline
// must not depend on.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "core/pipeline/router.hpp"
#include "portico/http_types.hpp"

namespace portico::pipeline {

// The tier rate limit's figures as the response's X-RateLimit-* headers show them.
struct ObservedQuota {
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::int64_t reset_seconds = 0;
};

struct ObservedRequest {
  const Request& request;    // client_ip resolved; identity set when the caller authenticated
  const RouteEntry* route;   // the matched route; null when none matched or refused before routing
  const Response& response;  // as it leaves the pipeline, without the gateway's own header lines
  std::chrono::nanoseconds duration;  // from entering Snapshot::handle to the response being ready
  std::optional<ObservedQuota> quota = std::nullopt;  // when the tier rate limit counted it
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // Called once per request on the request thread: must be cheap and must not block on I/O.
  virtual void observe(const ObservedRequest& observed) = 0;
};

}  // namespace portico::pipeline
