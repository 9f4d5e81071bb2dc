// The admin audit log: one JSON line per admin action in `<logging.dir>/audit-YYYY-MM-DD.log` (UTC
// day of the action), kept logging.retention_days like the other logs. Each line is written and
// flushed before write() returns, so it survives a crash of the process right after the action.
// A line holds ids only — the route's path parameters, the id a creation returned, the request id
// and the caller's address — never a credential, never a request or response body.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spdlog::sinks {
class sink;
}

namespace portico::observability {

struct AuditRecord {
  std::chrono::system_clock::time_point time;  // when the request was received
  std::string action;                          // admin_action(), or "unauthorized", "locked_out"…
  std::string method;                          // empty when not an HTTP request (SIGHUP)
  std::string route;                           // matched pattern; empty when none matched
  std::vector<std::pair<std::string, std::string>> target;  // the route's path parameters
  std::string request_id;
  std::string caller;   // the client's address, or "signal:SIGHUP"
  int status = 0;       // the HTTP status answered (a SIGHUP reload: 200, 422 refused, 500)
  std::string created;  // the id a 201 answer created (partner, key…); empty when none
};

// "succeeded" (below 400), "refused" (4xx) or "failed" (5xx).
std::string_view audit_outcome(int status);

// The JSON object of one line (no newline), members in this order: time (RFC 3339 UTC, ms),
// action, method, route, target {name: id}, request_id, caller, status, outcome, created (only
// when set). Empty method/route are null; text is valid UTF-8 (bad bytes become U+FFFD); values
// shaped like an API key or webhook secret are redacted; target values are cut at 256 bytes.
std::string format_audit_line(const AuditRecord& record);

// The action name of an admin route, derived from its pattern alone:
//   the literal segments after /admin/v1 (parameters dropped; '-' becomes '_'), joined by '.',
//   then a verb for the method — POST create, PUT set, PATCH update, DELETE delete, GET read —
//   except for a POST to a path ending in a literal with no route one segment below it (an
//   operation such as …/rotate, /products/import, /orders/{id}/status, /reload): its name is the
//   verb.
// `has_routes_below`: a route `route` + "/<segment>" exists (the last literal names a collection).
// POST /admin/v1/partners → partners.create; DELETE /admin/v1/partners/{id}/keys/{key_id} →
// partners.keys.delete; POST /admin/v1/partners/{id}/keys/{key_id}/rotate → partners.keys.rotate.
std::string admin_action(std::string_view method, std::string_view route, bool has_routes_below);

class AuditLog {
 public:
  // Creates `dir` and opens today's file (throws std::runtime_error naming it when it cannot).
  explicit AuditLog(const std::filesystem::path& dir);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Formats, writes and flushes the line before returning. Never throws: a line that cannot be
  // written is reported to the error log.
  void write(const AuditRecord& record);

 private:
  std::mutex mutex_;
  std::shared_ptr<spdlog::sinks::sink> sink_;
};

}  // namespace portico::observability
