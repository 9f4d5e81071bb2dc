#include "plugins/webhook_delivery/attempt_outcome.hpp"

#include "webhooks_common/retry_schedule.hpp"

namespace portico::webhook_delivery {

namespace {

std::string describe_failure(const http_client::DeliveryResult& result) {
  if (result.status == 0) return result.error.empty() ? "no answer" : result.error;
  std::string text = "the endpoint answered " + std::to_string(result.status);
  if (result.status >= 300 && result.status < 400) {
    text += "; redirects are not followed";
    if (result.location) text += " (Location: " + result.location->substr(0, 200) + ")";
  }
  return text;
}

}  // namespace

AttemptOutcome judge_attempt(const http_client::DeliveryResult& result, int attempt,
                             double unit_random, std::chrono::system_clock::time_point now,
                             bool permanent) {
  AttemptOutcome outcome;
  if (result.status != 0) outcome.status_code = result.status;
  if (result.status >= 200 && result.status < 300) {
    outcome.verdict = Verdict::succeeded;
    return outcome;
  }
  if (result.status == 410) {
    outcome.verdict = Verdict::gone;
    outcome.error = "the endpoint answered 410 Gone";
    return outcome;
  }
  outcome.error = describe_failure(result);
  if (permanent) {
    outcome.verdict = Verdict::failed;
    return outcome;
  }
  auto delay = webhooks::retry_delay(attempt, unit_random, result.retry_after.value_or(""), now);
  if (!delay) {
    outcome.verdict = Verdict::failed;
    return outcome;
  }
  outcome.verdict = Verdict::retry;
  outcome.retry_in = *delay;
  return outcome;
}

}  // namespace portico::webhook_delivery
