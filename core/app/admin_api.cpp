#include "core/app/admin_api.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include <chrono>

#include "core/observability/prometheus_text.hpp"
#include "core/partners/admin_routes.hpp"
#include "core/pipeline/problems.hpp"
#include "core/pipeline/request_id.hpp"
#include "core/pipeline/stages.hpp"
#include "core/usage/usage_routes.hpp"
#include "core/util/time.hpp"

namespace portico::app {
namespace {

Route route(std::string method, std::string path, bool authenticated, Handler handler) {
  Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.authenticated = authenticated;
  r.handler = std::move(handler);
  return r;
}

bool token_matches(std::string_view presented, const std::string& expected) {
  if (expected.empty() || presented.size() != expected.size()) return false;
  return sodium_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

Problem admin_unauthorized() {
  Problem p;
  p.status = 401;
  p.code = "unauthorized";
  p.title = "Unauthorized";
  p.detail = "The admin API needs Authorization: Bearer <admin.token>.";
  p.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"portico-admin\"");
  return p;
}

bool changes_state(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// The "id" member of a 201 JSON answer: what the request created (never any other member).
std::string created_id(const Response& response) {
  if (response.status != 201 || response.content_type.rfind("application/json", 0) != 0) return {};
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (!body.is_object()) return {};
  auto id = body.find("id");
  return id != body.end() && id->is_string() ? id->get<std::string>() : std::string{};
}

}  // namespace

AdminApi::AdminApi(const pipeline::SnapshotHolder& holder, std::shared_ptr<Database> db,
                   std::shared_ptr<partners::PartnerService> partners,
                   std::shared_ptr<usage::UsageRecorder> usage, MetricsText metrics,
                   Reloader* reloader, std::shared_ptr<pipeline::ClientGuard> guard,
                   std::shared_ptr<observability::AuditLog> audit)
    : holder_(holder),
      db_(std::move(db)),
      reloader_(reloader),
      guard_(std::move(guard)),
      audit_(std::move(audit)) {
  router_.add(route("GET", "/healthz", false,
                    [](const Request&) {
                      return Response::json(200, {{"status", "ok"}});
                    }),
              "core");
  router_.add(route("GET", "/readyz", false, [this](const Request&) { return readiness(); }),
              "core");
  router_.add(
      route("GET", "/admin/v1/plugins", true, [this](const Request&) { return list_plugins(); }),
      "core");
  if (reloader_) {
    router_.add(
        route("POST", "/admin/v1/reload", true, [this](const Request&) { return reload(); }),
        "core");
  }
  if (metrics) {
    router_.add(route("GET", "/metrics", true,
                      [this, metrics = std::move(metrics)](const Request&) {
                        Response response;
                        response.content_type = observability::kPrometheusContentType;
                        response.body = metrics(*holder_.load());
                        return response;
                      }),
                "core");
  }
  if (partners) {
    partners::add_partner_admin_routes(router_, partners);
    usage::add_usage_admin_routes(router_, usage, [partners](const std::string& id) {
      try {
        partners->get_partner(id);
        return true;
      } catch (const ProblemError&) {
        return false;
      }
    });
  }
}

Response AdminApi::handle(Request& request) const {
  const auto received_at = std::chrono::system_clock::now();
  pipeline::assign_request_id(request.request_id, request.header("X-Request-Id"));
  Response response;
  // Held to the end of the request: a plugin's admin route runs on the snapshot it came from.
  auto snapshot = holder_.load();
  const pipeline::RouteEntry* matched = nullptr;
  std::string refusal;  // the audit action of a request refused before its route: see below
  try {
    auto match = router_.match(request.method, request.path, request.path_params);
    if (!match.entry) {
      auto from_plugins =
          snapshot->admin_router.match(request.method, request.path, request.path_params);
      if (from_plugins.entry || match.allowed_methods.empty()) match = std::move(from_plugins);
    }
    matched = match.entry;
    // Everything but the open probes needs the token, unknown paths included (no route probing).
    // The probes are never locked out.
    if (!match.entry || match.entry->route.authenticated) {
      const config::SecurityConfig& settings = pipeline::security_settings(*snapshot);
      // A locked-out address is refused before its token is even compared.
      if (guard_) {
        pipeline::GuardDecision decision = guard_->check_lockout(request.client_ip);
        if (decision.outcome != pipeline::GuardDecision::Outcome::allowed) {
          refusal = "locked_out";
          throw ProblemError(pipeline::guard_refusal(decision, settings));
        }
      }
      auto header = request.header("Authorization");
      std::string_view presented;
      if (header && header->substr(0, 7) == "Bearer ") presented = header->substr(7);
      if (!token_matches(presented, snapshot->config->admin.token)) {
        // Counts towards the lockout like a failed partner authentication (which logs it).
        if (guard_) guard_->record_auth_failure(request.client_ip, settings);
        refusal = "unauthorized";
        throw ProblemError(admin_unauthorized());
      }
    }
    if (!match.entry) {
      if (!match.allowed_methods.empty()) {
        throw ProblemError(pipeline::method_not_allowed(request.method, match.allowed_methods));
      }
      throw ProblemError(pipeline::route_not_found(request.method, request.path));
    }
    response = pipeline::call_route_and_wait(match.entry->route, request,
                                             snapshot->config->server.handler_timeout);
  } catch (const ProblemError& e) {
    response = pipeline::problem_response(e.problem(), request.request_id);
  } catch (const std::exception& error) {
    response = pipeline::problem_response(pipeline::error_problem(error), request.request_id);
  }
  response.set_header("X-Request-Id", request.request_id);

  // Audited: every state-changing request whatever its outcome, and every refusal for the token
  // or a lockout whatever the method (so that guessing is visible).
  if (audit_ && (changes_state(request.method) || !refusal.empty())) {
    observability::AuditRecord record;
    record.time = received_at;
    record.method = request.method;
    if (matched) record.route = matched->route.path;
    if (!refusal.empty()) {
      record.action = refusal;
    } else if (matched) {
      record.action = observability::admin_action(request.method, matched->route.path,
                                                  has_routes_below(*snapshot, matched->route.path));
    } else {
      record.action = "no_route";
    }
    if (matched) record.target.assign(request.path_params.begin(), request.path_params.end());
    record.request_id = request.request_id;
    record.caller = request.client_ip;
    record.status = response.status;
    if (refusal.empty()) record.created = created_id(response);
    audit_->write(record);
  }
  return response;
}

bool AdminApi::has_routes_below(const pipeline::Snapshot& snapshot,
                                const std::string& pattern) const {
  // A parameter segment matches any segment, so "_" stands for every possible child.
  std::string child = pattern + "/_";
  std::map<std::string, std::string> params;
  for (const pipeline::Router* router : {&router_, &snapshot.admin_router}) {
    auto match = router->match("GET", child, params);
    if (match.entry || !match.allowed_methods.empty()) return true;
  }
  return false;
}

Response AdminApi::list_plugins() const {
  auto snapshot = holder_.load();
  nlohmann::json data = nlohmann::json::array();
  for (const auto& plugin : snapshot->plugins) data.push_back(plugin_json(plugin.loaded, true));
  return Response::json(200, {{"data", data}, {"generation", snapshot->generation}});
}

Response AdminApi::reload() const {
  try {
    ReloadResult result = reloader_->reload();
    return Response::json(200, result.to_json(*holder_.load()));
  } catch (const StartupError& e) {
    Problem p;
    p.status = 422;
    p.code = "reload_refused";
    p.title = "Reload refused";
    p.detail = "Nothing changed: the gateway keeps running generation " +
               std::to_string(holder_.load()->generation) + ". " + e.lines().front();
    // Each line already names where the problem is (file:line key, or the plugin file).
    for (const auto& line : e.lines()) p.errors.push_back({"config", line});
    throw ProblemError(std::move(p));
  }
}

Response AdminApi::readiness() const {
  nlohmann::json checks;
  bool ready = true;
  try {
    db_->query("SELECT 1");
    // While writes fail (full disk, a lock held by another process, I/O errors), try one: it is
    // how readiness comes back once the store takes writes again, with or without traffic.
    if (!db_->write_failure().empty()) {
      db_->execute(
          "INSERT INTO core_store_probe(id, written_at) VALUES (1, ?)"
          " ON CONFLICT(id) DO UPDATE SET written_at = excluded.written_at",
          {util::format_rfc3339(std::chrono::system_clock::now())});
    }
    checks["store"] = "ok";
  } catch (const std::exception& e) {
    checks["store"] = std::string("failing: ") + e.what();
    ready = false;
  }
  auto snapshot = holder_.load();
  checks["plugins"] =
      snapshot ? std::to_string(snapshot->plugins.size()) + " loaded" : "not loaded";
  if (!snapshot) ready = false;
  Response response = Response::json(
      ready ? 200 : 503, {{"status", ready ? "ready" : "not_ready"}, {"checks", checks}});
  if (!ready) response.set_header("Retry-After", "5");
  return response;
}

}  // namespace portico::app
