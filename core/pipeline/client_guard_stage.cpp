// The stage in front of routing that asks the ClientGuard about the client IP: 429 for a locked-out
// IP (code too_many_auth_failures) and for an IP over the pre-authentication limit (rate_limited).
// Health probes (GET /healthz) pass untouched and uncounted.
#include "core/pipeline/client_guard.hpp"
#include "core/pipeline/snapshot.hpp"
#include "core/pipeline/stages.hpp"

namespace portico::pipeline {
namespace {

// A GET or HEAD of a probe path that this listener serves without credentials.
bool is_probe(const Exchange& ex) {
  const Request& request = ex.request;
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (!is_probe_path(request.path)) return false;
  std::map<std::string, std::string> no_params;  // a probe path has none
  RouteMatch match = ex.snapshot.router.match(request.method, request.path, no_params);
  return match.entry && !match.entry->route.authenticated;
}

class ClientGuardStage final : public Stage {
 public:
  std::string_view name() const override { return "client_guard"; }
  StageStatus run(Exchange& ex) const override {
    ClientGuard* guard = ex.snapshot.client_guard.get();
    if (!guard || is_probe(ex)) return StageStatus::Continue;
    const config::SecurityConfig& settings = security_settings(ex.snapshot);
    GuardDecision decision = guard->admit(ex.request.client_ip, settings);
    if (decision.outcome == GuardDecision::Outcome::allowed) return StageStatus::Continue;
    throw ProblemError(guard_refusal(decision, settings));
  }
};

}  // namespace

std::unique_ptr<Stage> client_guard_stage() {
  return std::make_unique<ClientGuardStage>();
}

}  // namespace portico::pipeline
