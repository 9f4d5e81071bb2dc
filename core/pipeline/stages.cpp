// The core's partner pipeline stages: route match, authentication, scope check, handler.
#include "core/pipeline/problems.hpp"
#include "core/pipeline/snapshot.hpp"

namespace portico::pipeline {
namespace {

class RouteStage final : public Stage {
 public:
  std::string_view name() const override { return "route"; }
  StageStatus run(Exchange& ex) const override {
    RouteMatch match = ex.snapshot.router.match(ex.request.method, ex.request.path);
    if (!match.entry) {
      if (!match.allowed_methods.empty()) {
        throw ProblemError(method_not_allowed(ex.request.method, match.allowed_methods));
      }
      throw ProblemError(route_not_found(ex.request.method, ex.request.path));
    }
    ex.route = match.entry;
    ex.request.path_params = std::move(match.params);
    return StageStatus::Continue;
  }
};

Problem unauthenticated(std::string detail) {
  Problem p;
  p.status = 401;
  p.code = "unauthorized";
  p.title = "Unauthorized";
  p.detail = std::move(detail);
  p.headers.emplace_back("WWW-Authenticate", "ApiKey header=\"X-API-Key\", Bearer");
  return p;
}

class AuthenticateStage final : public Stage {
 public:
  std::string_view name() const override { return "authenticate"; }
  StageStatus run(Exchange& ex) const override {
    if (!ex.route->route.authenticated) return StageStatus::Continue;
    for (AuthScheme* scheme : ex.snapshot.auth_schemes) {
      AuthResult result = scheme->authenticate(ex.request);
      switch (result.outcome) {
        case AuthResult::Outcome::not_mine: continue;
        case AuthResult::Outcome::authenticated:
          ex.request.identity = std::move(result.identity);
          return StageStatus::Continue;
        case AuthResult::Outcome::rejected:
          if (result.problem.status == 401 && result.problem.headers.empty()) {
            result.problem.headers.emplace_back("WWW-Authenticate",
                                                "ApiKey header=\"X-API-Key\", Bearer");
          }
          throw ProblemError(std::move(result.problem));
      }
    }
    throw ProblemError(unauthenticated(
        ex.snapshot.auth_schemes.empty()
            ? "This route needs credentials, and no authentication scheme is enabled."
            : "Send your API key in the X-API-Key header, or an OAuth access token as "
              "Authorization: Bearer <token>."));
  }
};

class ScopeStage final : public Stage {
 public:
  std::string_view name() const override { return "scope"; }
  StageStatus run(Exchange& ex) const override {
    const std::string& scope = ex.route->route.scope;
    if (scope.empty() || !ex.route->route.authenticated) return StageStatus::Continue;
    if (ex.request.identity && ex.request.identity->has_scope(scope)) return StageStatus::Continue;
    Problem p;
    p.status = 403;
    p.code = "insufficient_scope";
    p.title = "Insufficient scope";
    p.detail = "This route needs the scope '" + scope + "', which your credentials do not carry.";
    throw ProblemError(std::move(p));
  }
};

class HandlerStage final : public Stage {
 public:
  std::string_view name() const override { return "handler"; }
  StageStatus run(Exchange& ex) const override {
    ex.response = ex.route->route.handler(ex.request);
    return StageStatus::Respond;
  }
};

}  // namespace

std::vector<std::unique_ptr<Stage>> standard_stages() {
  std::vector<std::unique_ptr<Stage>> stages;
  stages.push_back(std::make_unique<RouteStage>());
  stages.push_back(std::make_unique<AuthenticateStage>());
  stages.push_back(std::make_unique<ScopeStage>());
  stages.push_back(std::make_unique<HandlerStage>());
  return stages;
}

}  // namespace portico::pipeline
