// The usage endpoints: GET /v1/usage for the calling partner (scope usage:read) and
// GET /admin/v1/partners/{id}/usage for operators, both answering
// {"partner_id", "from", "to", "data": [{"date", "route", "requests", "errors_4xx",
// "errors_5xx", "rate_limited"}]}. `?from=YYYY-MM-DD&to=YYYY-MM-DD` (UTC days, inclusive; `to`
// defaults to today, `from` to 29 days before `to`; at most 366 days).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/pipeline/router.hpp"
#include "core/usage/usage_recorder.hpp"
#include "portico/plugin.hpp"

namespace portico::usage {

inline constexpr const char* kUsageScope = "usage:read";

// GET /v1/usage: only the caller's own partner, whatever the query says.
Route usage_route(std::shared_ptr<UsageRecorder> recorder);

// GET /admin/v1/partners/{id}/usage, authenticated by the admin listener. With `partner_exists`,
// an unknown id answers 404 not_found; without it, an empty list.
void add_usage_admin_routes(pipeline::Router& router, std::shared_ptr<UsageRecorder> recorder,
                            std::function<bool(const std::string&)> partner_exists = {});

// The JSON body both routes answer (exposed for tests and the CLI). Throws ProblemError 400
// invalid_request for a bad from/to.
nlohmann::json usage_report(const UsageRecorder& recorder, const std::string& partner_id,
                            const Request& request);

}  // namespace portico::usage
