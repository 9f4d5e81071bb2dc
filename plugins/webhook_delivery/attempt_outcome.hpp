// What one delivery attempt's HTTP result means for the delivery (CONTRACT.md "Webhooks"):
// 2xx succeeds; 410 Gone fails it and disables the endpoint; anything else — redirects (never
// followed), other 4xx/5xx, network errors, timeouts, SSRF refusals — is retried on the schedule
// (Retry-After can only push a retry later) until the schedule is exhausted.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "lib/http_client/http_client.hpp"

namespace portico::webhook_delivery {

enum class Verdict {
  succeeded,  // 2xx
  gone,       // 410: the delivery fails and the endpoint is disabled
  retry,      // pending again at next_attempt_at
  failed,     // retries exhausted (or the attempt can never succeed)
};

struct AttemptOutcome {
  Verdict verdict = Verdict::failed;
  std::optional<int> status_code;         // the HTTP status, nullopt when no answer arrived
  std::string error;                      // empty on success; what went wrong otherwise
  std::chrono::milliseconds retry_in{0};  // for Verdict::retry
};

// `attempt` is this attempt's number (1 = first try); `unit_random` in [0, 1) picks the jitter;
// `now` anchors an HTTP-date Retry-After. `permanent` marks a failure no retry can fix (the event
// is gone from the outbox).
AttemptOutcome judge_attempt(const http_client::DeliveryResult& result, int attempt,
                             double unit_random, std::chrono::system_clock::time_point now,
                             bool permanent = false);

}  // namespace portico::webhook_delivery
