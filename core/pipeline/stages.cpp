// The core's partner pipeline stages: route match, authentication, scope check, handler; and the
// order of the whole pipeline. Client IP, client guard, allow-list and rate limit have files of
// their own.
#include "core/pipeline/stages.hpp"

#include <future>

#include "core/pipeline/problems.hpp"
#include "core/pipeline/snapshot.hpp"

namespace portico::pipeline {
namespace {

constexpr const char* kChallenge = "ApiKey header=\"X-API-Key\", Bearer";

class RouteStage final : public Stage {
 public:
  std::string_view name() const override { return "route"; }
  StageStatus run(Exchange& ex) const override {
    RouteMatch match =
        ex.snapshot.router.match(ex.request.method, ex.request.path, ex.request.path_params);
    if (!match.entry) {
      if (!match.allowed_methods.empty()) {
        throw ProblemError(method_not_allowed(ex.request.method, match.allowed_methods));
      }
      throw ProblemError(route_not_found(ex.request.method, ex.request.path));
    }
    ex.route = match.entry;
    return StageStatus::Continue;
  }
};

Problem unauthenticated(std::string detail) {
  Problem p;
  p.status = 401;
  p.code = "unauthorized";
  p.title = "Unauthorized";
  p.detail = std::move(detail);
  p.headers.emplace_back("WWW-Authenticate", kChallenge);
  return p;
}

// Asks the snapshot's schemes in priority order; the first that claims the request decides. A
// scheme answers now (authenticate_now, API 3.2) or through a completion (API 2.0), at once or
// later: the stage pauses meanwhile.
class AuthenticateStage final : public Stage {
 public:
  std::string_view name() const override { return "authenticate"; }
  StageStatus run(Exchange& ex) const override {
    if (!ex.route->route.authenticated) return StageStatus::Continue;
    return ask(ex, 0);
  }

 private:
  StageStatus ask(Exchange& ex, std::size_t index) const {
    if (index >= ex.snapshot.auth_schemes.size()) {
      failed(ex);
      return refuse(ex, unauthenticated(
                            ex.snapshot.auth_schemes.empty()
                                ? "This route needs credentials, and no authentication scheme is "
                                  "enabled."
                                : "Send your API key in the X-API-Key header, or an OAuth access "
                                  "token as Authorization: Bearer <token>."));
    }
    const Snapshot::Scheme& scheme = ex.snapshot.auth_schemes[index];
    if (scheme.answers_now) {
      std::optional<AuthResult> now;
      try {
        now = scheme.scheme->authenticate_now(ex.request);
      } catch (const ProblemError& e) {
        if (e.problem().status == 401) failed(ex);
        throw;
      }
      if (now) return decide(ex, index, std::move(*now));
    }
    Resumer resume = ex.suspend();
    Completion<AuthResult> answered = ex.completion<AuthResult>(
        [this, resume = std::move(resume), index](AuthResult&& result, std::exception_ptr error) {
          if (error) {
            resume([error](Exchange& ex) -> StageStatus {
              try {
                std::rethrow_exception(error);
              } catch (const ProblemError& e) {
                if (e.problem().status == 401) failed(ex);
                throw;
              }
            });
            return;
          }
          resume([this, index, result = std::move(result)](Exchange& ex) mutable {
            return decide(ex, index, std::move(result));
          });
        });
    scheme.scheme->authenticate_async(ex.request, std::move(answered));
    return StageStatus::Pending;
  }

  StageStatus decide(Exchange& ex, std::size_t index, AuthResult result) const {
    switch (result.outcome) {
      case AuthResult::Outcome::not_mine: return ask(ex, index + 1);
      case AuthResult::Outcome::authenticated:
        ex.request.identity = std::move(result.identity);
        return StageStatus::Continue;
      case AuthResult::Outcome::rejected: {
        if (!result.problem) {  // a result made without the factories
          failed(ex);
          return refuse(ex, unauthenticated("The credentials were refused."));
        }
        const Problem& problem = *result.problem;
        if (problem.status != 401) return refuse(ex, result.problem);
        failed(ex);
        if (!problem.headers.empty()) return refuse(ex, result.problem);
        Problem challenged = problem;  // a scheme that named no challenge gets the gateway's
        challenged.headers.emplace_back("WWW-Authenticate", kChallenge);
        return refuse(ex, challenged);
      }
    }
    return ask(ex, index + 1);
  }

  // The answer to a refused request, given rather than thrown: the 401 path is the one a flood of
  // bad keys takes, and an exception per request costs more than the rest of it. The same answer
  // the pipeline renders from a thrown ProblemError.
  static StageStatus refuse(Exchange& ex, const Problem& problem) {
    ex.response = problem_answer(problem, ex.request.request_id);
    return StageStatus::Respond;
  }
  // A scheme's shared refusal: its body made once per thread (problem_answer).
  static StageStatus refuse(Exchange& ex, const std::shared_ptr<const Problem>& problem) {
    ex.response = problem_answer(problem, ex.request.request_id);
    return StageStatus::Respond;
  }

  // Every 401 of this stage, missing credentials included, counts towards the IP's lockout.
  static void failed(const Exchange& ex) {
    if (ex.snapshot.client_guard) {
      ex.snapshot.client_guard->record_auth_failure(ex.request.client_ip,
                                                    security_settings(ex.snapshot));
    }
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

// The route's handler: an AsyncHandler on the request's thread; a Handler there too when it says
// RunOn::io_thread, otherwise on the worker pool. A NowOrLater's `now` answers without a pause;
// otherwise the stage pauses until the answer.
class HandlerStage final : public Stage {
 public:
  std::string_view name() const override { return "handler"; }
  StageStatus run(Exchange& ex) const override {
    const Route& route = ex.route->route;
    if (!route.async_handler && (route.run_on == RunOn::io_thread || !ex.workers)) {
      ex.response = route.handler(ex.request);
      return StageStatus::Respond;
    }
    const AsyncHandler* later = &route.async_handler;
    if (const NowOrLater* parts = ex.route->now_or_later) {
      if (std::optional<Answer> now = parts->now(ex.request)) {
        ex.response = std::move(*now);
        return StageStatus::Respond;
      }
      later = &parts->later;
    }
    Resumer resume = ex.suspend();
    Reply reply = ex.completion<Answer>(
        [resume = std::move(resume)](Answer&& answer, std::exception_ptr error) {
          if (error) return resume.fail(std::move(error));
          resume([answer = std::move(answer)](Exchange& ex) mutable {
            ex.response = std::move(answer);
            return StageStatus::Respond;
          });
        });
    if (route.async_handler) {
      (*later)(ex.request, std::move(reply));
      return StageStatus::Pending;
    }
    // The request and route outlive the task: the pipeline keeps both until `reply` is answered.
    ex.workers->post([&handler = route.handler, &request = ex.request, reply = std::move(reply)] {
      if (reply.cancelled()) return;  // timed out or the client left while it waited for a worker
      reply.run([&] { return handler(request); });
    });
    return StageStatus::Pending;
  }
};

}  // namespace

std::unique_ptr<Stage> route_stage() {
  return std::make_unique<RouteStage>();
}
std::unique_ptr<Stage> authenticate_stage() {
  return std::make_unique<AuthenticateStage>();
}
std::unique_ptr<Stage> scope_stage() {
  return std::make_unique<ScopeStage>();
}
std::unique_ptr<Stage> handler_stage() {
  return std::make_unique<HandlerStage>();
}

Response call_route_and_wait(const Route& route, const Request& request,
                             std::chrono::milliseconds timeout) {
  if (!route.async_handler) return route.handler(request);
  auto cancel = std::make_shared<CancelState>();
  auto answer = std::make_shared<std::promise<Response>>();
  auto answered = answer->get_future();
  route.async_handler(request, Reply(
                                   [answer](Answer&& given, std::exception_ptr error) {
                                     if (error) return answer->set_exception(std::move(error));
                                     answer->set_value(std::move(given).take());
                                   },
                                   cancel));
  if (answered.wait_for(timeout) != std::future_status::ready) {
    cancel->cancel();
    throw ProblemError(handler_timeout_problem());
  }
  return answered.get();
}

std::vector<std::unique_ptr<Stage>> standard_stages(const config::Config& config) {
  std::vector<std::unique_ptr<Stage>> stages;
  stages.push_back(client_ip_stage(parse_trusted_proxies(config.server.trusted_proxies)));
  stages.push_back(client_guard_stage());
  stages.push_back(route_stage());
  stages.push_back(authenticate_stage());
  stages.push_back(allow_list_stage());
  stages.push_back(rate_limit_stage());
  stages.push_back(scope_stage());
  stages.push_back(handler_stage());
  return stages;
}

std::vector<std::unique_ptr<Stage>> standard_stages() {
  return standard_stages(config::Config{});
}

}  // namespace portico::pipeline
