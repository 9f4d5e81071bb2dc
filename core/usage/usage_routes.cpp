#include "core/usage/usage_routes.hpp"

#include <chrono>
#include <optional>

#include "core/pipeline/problems.hpp"

namespace portico::usage {
namespace {

constexpr int kDefaultDays = 30;
constexpr int kMaxDays = 366;

std::optional<std::chrono::sys_days> parse_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (std::size_t j = starts[i]; j < starts[i] + lengths[i]; ++j) {
      if (text[j] < '0' || text[j] > '9') return std::nullopt;
      parts[i] = parts[i] * 10 + (text[j] - '0');
    }
  }
  std::chrono::year_month_day date{std::chrono::year(parts[0]),
                                   std::chrono::month(static_cast<unsigned>(parts[1])),
                                   std::chrono::day(static_cast<unsigned>(parts[2]))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date);
}

[[noreturn]] void invalid(std::string field, std::string message) {
  Problem p = pipeline::bad_request("The usage query is invalid: " + field + " " + message + ".");
  p.errors.push_back({std::move(field), std::move(message)});
  throw ProblemError(std::move(p));
}

std::optional<std::chrono::sys_days> day_param(const Request& request, const char* name) {
  auto text = request.query_param(name);
  if (!text) return std::nullopt;
  auto day = parse_day(*text);
  if (!day) invalid(name, "must be a date written YYYY-MM-DD");
  return day;
}

[[noreturn]] void partner_not_found(const std::string& id) {
  Problem p;
  p.status = 404;
  p.code = "not_found";
  p.title = "Not found";
  p.detail = "No partner with id '" + id + "'.";
  throw ProblemError(std::move(p));
}

}  // namespace

nlohmann::json usage_report(const UsageRecorder& recorder, const std::string& partner_id,
                            const Request& request) {
  using std::chrono::days;
  auto from = day_param(request, "from");
  auto to = day_param(request, "to");
  if (!to) to = std::chrono::floor<days>(recorder.now());
  if (!from) from = *to - days(kDefaultDays - 1);
  if (*from > *to) invalid("from", "must not be after to");
  if (*to - *from >= days(kMaxDays)) {
    invalid("to", "must be at most " + std::to_string(kMaxDays) + " days after from");
  }

  std::string from_text = utc_day(*from), to_text = utc_day(*to);
  nlohmann::json data = nlohmann::json::array();
  for (const auto& row : recorder.query(partner_id, from_text, to_text)) {
    data.push_back({{"date", row.day},
                    {"route", row.route},
                    {"requests", row.counts.requests},
                    {"errors_4xx", row.counts.errors_4xx},
                    {"errors_5xx", row.counts.errors_5xx},
                    {"rate_limited", row.counts.rate_limited}});
  }
  return {{"partner_id", partner_id}, {"from", from_text}, {"to", to_text}, {"data", data}};
}

Route usage_route(std::shared_ptr<UsageRecorder> recorder) {
  Route route;
  route.method = "GET";
  route.path = "/v1/usage";
  route.scope = kUsageScope;
  route.authenticated = true;
  route.handler = [recorder = std::move(recorder)](const Request& request) {
    return Response::json(200, usage_report(*recorder, request.identity->partner_id, request));
  };
  return route;
}

void add_usage_admin_routes(pipeline::Router& router, std::shared_ptr<UsageRecorder> recorder,
                            std::function<bool(const std::string&)> partner_exists) {
  Route route;
  route.method = "GET";
  route.path = "/admin/v1/partners/{id}/usage";
  route.authenticated = true;  // the admin listener's bearer token
  route.handler = [recorder = std::move(recorder),
                   exists = std::move(partner_exists)](const Request& request) {
    const std::string& id = request.param("id");
    if (exists && !exists(id)) partner_not_found(id);
    return Response::json(200, usage_report(*recorder, id, request));
  };
  router.add(std::move(route), "core");
}

}  // namespace portico::usage
