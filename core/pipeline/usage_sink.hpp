// Where the pipeline reports each partner request once its response is known. Implemented by the
// usage module (core/usage), which the pipeline must not depend on.
#pragma once

#include <string>
#include <string_view>

namespace portico::pipeline {

class UsageSink {
 public:
  virtual ~UsageSink() = default;
  // `route` is the matched pattern, e.g. "GET /v1/products/{id}". Called on the request thread
  // for every response to an authenticated partner: must be cheap and must not block on I/O.
  virtual void record(const std::string& partner_id, std::string_view route, int status,
                      bool rate_limited) = 0;
};

}  // namespace portico::pipeline
