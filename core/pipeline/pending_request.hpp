// What the HTTP layer holds while the pipeline works on a request, and how the answer reaches it.
// Kept apart from snapshot.hpp so the listener does not depend on the pipeline's insides.
#pragma once

#include <string_view>

#include "core/util/inline_function.hpp"
#include "portico/http_types.hpp"

namespace portico::pipeline {

class PendingRequest {
 public:
  virtual ~PendingRequest() = default;
  // The client disconnected: the request is cancelled (handlers see Completion::cancelled()),
  // logged as 499 and answered with nothing. No-op once answered.
  virtual void client_gone() = 0;
  // server.handler_timeout passed: the request is cancelled and answered 504 handler_timeout;
  // the handler's late answer is dropped. No-op once answered.
  virtual void timed_out() = 0;
};

// Receives the response, exactly once, on the thread that finished the request: the calling
// thread when every stage answered at once, otherwise a worker's, a plugin's or the one that
// timed it out.
// The answer, and the header lines the gateway adds to it itself — the rate limit's and
// X-Request-Id, preformatted as "Name: value\r\n" (header_lines.hpp) — for the connection to
// write into the response head as they are. They are not in Response::headers (the handler's
// headers of the same names are dropped): no answer allocates a string for them. The view is
// valid for the call only. Move-only, its captures inline (no allocation per request).
using Respond = util::InlineFunction<void(Answer&&, std::string_view core_headers), 64>;

}  // namespace portico::pipeline
