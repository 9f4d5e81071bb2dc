// The stage in front of routing that asks the ClientGuard about the client IP: 429 for a locked-out
// IP (code too_many_auth_failures) and for an IP over the pre-authentication limit (rate_limited).
#include "core/pipeline/client_guard.hpp"
#include "core/pipeline/snapshot.hpp"
#include "core/pipeline/stages.hpp"

namespace portico::pipeline {
namespace {

std::int64_t retry_seconds(std::chrono::milliseconds ms) {
  return std::max<std::int64_t>(1, (ms.count() + 999) / 1000);
}

Problem refusal(const GuardDecision& decision, const config::SecurityConfig& settings) {
  std::int64_t retry = retry_seconds(decision.retry_after);
  Problem p;
  p.status = 429;
  if (decision.outcome == GuardDecision::Outcome::locked_out) {
    p.code = "too_many_auth_failures";
    p.title = "Too many failed authentications";
    p.detail =
        "Requests from your IP address are refused for a while after repeated failed "
        "authentications. Try again in " +
        std::to_string(retry) + " seconds with valid credentials.";
  } else {
    p.code = "rate_limited";
    p.title = "Too many requests";
    p.detail = "Your IP address sent more than " + std::to_string(settings.client_ip_limit) +
               " requests in " + std::to_string((settings.client_ip_window.count() + 999) / 1000) +
               " seconds. Try again in " + std::to_string(retry) + " seconds.";
  }
  p.headers.emplace_back("Retry-After", std::to_string(retry));
  return p;
}

class ClientGuardStage final : public Stage {
 public:
  std::string_view name() const override { return "client_guard"; }
  StageStatus run(Exchange& ex) const override {
    ClientGuard* guard = ex.snapshot.client_guard.get();
    if (!guard) return StageStatus::Continue;
    const config::SecurityConfig& settings = security_settings(ex.snapshot);
    GuardDecision decision = guard->admit(ex.request.client_ip, settings);
    if (decision.outcome == GuardDecision::Outcome::allowed) return StageStatus::Continue;
    throw ProblemError(refusal(decision, settings));
  }
};

}  // namespace

std::unique_ptr<Stage> client_guard_stage() {
  return std::make_unique<ClientGuardStage>();
}

}  // namespace portico::pipeline
