#include "core/observability/audit_log.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/observability/access_line.hpp"
#include "core/observability/daily_file_sink.hpp"
#include "core/util/time.hpp"

namespace portico::observability {
namespace {

constexpr std::size_t kMaxValue = 256;

std::string bounded(std::string_view text, std::size_t max_bytes) {
  return redact_secrets(text.substr(0, std::min(text.size(), max_bytes)));
}

std::string_view verb(std::string_view method) {
  if (method == "POST") return "create";
  if (method == "PUT") return "set";
  if (method == "PATCH") return "update";
  if (method == "DELETE") return "delete";
  if (method == "GET" || method == "HEAD") return "read";
  return {};
}

}  // namespace

std::string_view audit_outcome(int status) {
  if (status >= 500) return "failed";
  if (status >= 400) return "refused";
  return "succeeded";
}

std::string format_audit_line(const AuditRecord& r) {
  nlohmann::ordered_json line;
  line["time"] = util::format_rfc3339(r.time, true);
  line["action"] = r.action;
  using Json = nlohmann::ordered_json;
  line["method"] = r.method.empty() ? Json() : Json(r.method);
  line["route"] = r.route.empty() ? Json() : Json(bounded(r.route, kMaxValue));
  nlohmann::ordered_json target = nlohmann::ordered_json::object();
  for (const auto& [name, value] : r.target) {
    target[bounded(name, kMaxValue)] = bounded(value, kMaxValue);
  }
  line["target"] = std::move(target);
  line["request_id"] = r.request_id;
  line["caller"] = bounded(r.caller, kMaxValue);
  line["status"] = r.status;
  line["outcome"] = audit_outcome(r.status);
  if (!r.created.empty()) line["created"] = bounded(r.created, kMaxValue);
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string admin_action(std::string_view method, std::string_view route, bool has_routes_below) {
  constexpr std::string_view kBase = "/admin/v1/";
  if (route.substr(0, kBase.size()) == kBase) route.remove_prefix(kBase.size());
  std::string action;
  bool ends_in_parameter = false;
  while (!route.empty()) {
    std::size_t slash = route.find('/');
    std::string_view segment = route.substr(0, slash);
    route = slash == std::string_view::npos ? std::string_view{} : route.substr(slash + 1);
    if (segment.empty()) continue;
    ends_in_parameter = segment.front() == '{';
    if (ends_in_parameter) continue;
    if (!action.empty()) action += '.';
    for (char c : segment) action += c == '-' ? '_' : c;
  }
  bool operation = method == "POST" && !ends_in_parameter && !has_routes_below && !action.empty();
  if (operation) return action;
  std::string_view name = verb(method);
  std::string lowered;
  if (name.empty()) {
    for (char c : method) lowered += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    name = lowered;
  }
  if (!action.empty()) action += '.';
  action += name;
  return action;
}

AuditLog::AuditLog(const std::filesystem::path& dir)
    : sink_(make_daily_file_sink(dir, "audit", ".log")) {
  sink_->set_pattern("%v");
}

AuditLog::~AuditLog() = default;

void AuditLog::write(const AuditRecord& record) {
  std::string text;
  try {
    text = format_audit_line(record);
    std::lock_guard lock(mutex_);
    spdlog::details::log_msg message(record.time, spdlog::source_loc{}, "audit",
                                     spdlog::level::info,
                                     spdlog::string_view_t(text.data(), text.size()));
    sink_->log(message);
    sink_->flush();  // to the kernel now: the line outlives a crash of the process
  } catch (const std::exception& e) {
    spdlog::error("audit log: line not written ({} {}, request {}): {}", record.action,
                  record.status, record.request_id, e.what());
  }
}

}  // namespace portico::observability
