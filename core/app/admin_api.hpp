// The admin listener's handler: bearer-token check, then the operator routes (/admin/v1/...) and
// GET /metrics, plus the unauthenticated probes /healthz and /readyz. Runs on its own thread, so a
// slow operator request (an import, a reload) never holds up partner traffic.
// Wrong tokens count towards the client guard's per-IP lockout, as failed partner authentications
// do; a locked-out address is answered 429 before its token is compared. The probes are never
// locked out. Every state-changing request (POST, PUT, PATCH, DELETE), and every request refused
// for its token or a lockout, leaves a line in the audit log.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/app/reload.hpp"
#include "core/observability/audit_log.hpp"
#include "core/partners/partner_service.hpp"
#include "core/pipeline/client_guard.hpp"
#include "core/pipeline/router.hpp"
#include "core/pipeline/snapshot.hpp"
#include "core/usage/usage_recorder.hpp"
#include "portico/database.hpp"

namespace portico::app {

class AdminApi {
 public:
  // The Prometheus text of GET /metrics for the snapshot in force; empty = no /metrics route.
  using MetricsText = std::function<std::string(const pipeline::Snapshot&)>;

  // `reloader` null: no POST /admin/v1/reload. `guard` null: no lockout. `audit` null: no audit.
  AdminApi(const pipeline::SnapshotHolder& holder, std::shared_ptr<Database> db,
           std::shared_ptr<partners::PartnerService> partners,
           std::shared_ptr<usage::UsageRecorder> usage, MetricsText metrics = {},
           Reloader* reloader = nullptr, std::shared_ptr<pipeline::ClientGuard> guard = nullptr,
           std::shared_ptr<observability::AuditLog> audit = nullptr);
  Response handle(Request& request) const;

 private:
  Response list_plugins() const;
  Response reload() const;
  Response readiness() const;
  // A route (core or the snapshot's plugins) `pattern` + "/<segment>" exists.
  bool has_routes_below(const pipeline::Snapshot& snapshot, const std::string& pattern) const;

  const pipeline::SnapshotHolder& holder_;
  std::shared_ptr<Database> db_;
  Reloader* reloader_;
  std::shared_ptr<pipeline::ClientGuard> guard_;
  std::shared_ptr<observability::AuditLog> audit_;
  pipeline::Router router_;
};

}  // namespace portico::app
