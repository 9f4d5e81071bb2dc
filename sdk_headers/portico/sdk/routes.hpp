// Route builders, so a route table reads as a table.
//   sdk::admin_route("POST", "/admin/v1/orders/{id}/status", handler)
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "portico/plugin.hpp"

namespace portico::sdk {

// A partner route needing `scope` (empty: any authenticated caller). Its handler runs on the
// worker pool; set run_on = RunOn::io_thread for answers computed from memory.
inline Route route(std::string method, std::string path, std::string scope, Handler handler) {
  Route route;
  route.method = std::move(method);
  route.path = std::move(path);
  route.scope = std::move(scope);
  route.handler = std::move(handler);
  return route;
}

// The same with an asynchronous handler (called on the I/O thread; answers through its Reply).
inline Route async_route(std::string method, std::string path, std::string scope,
                         AsyncHandler handler) {
  Route built = route(std::move(method), std::move(path), std::move(scope), nullptr);
  built.async_handler = std::move(handler);
  return built;
}

// Since API 3.2: the same with a handler in two parts (NowOrLater): `now` answers from memory on
// the request's thread or returns std::nullopt, and only then `later` is called with a Reply.
inline Route now_or_later_route(std::string method, std::string path, std::string scope,
                                std::function<std::optional<Answer>(const Request&)> now,
                                AsyncHandler later) {
  return async_route(std::move(method), std::move(path), std::move(scope),
                     NowOrLater{std::move(now), std::move(later)});
}

// A route on the admin listener (under /admin/v1, behind the admin token).
inline Route admin_route(std::string method, std::string path, Handler handler) {
  Route built = route(std::move(method), std::move(path), "", std::move(handler));
  built.admin = true;
  return built;
}

// A RouteProvider whose table is the concatenation of route sets, each built on demand, e.g.
//   sdk::RouteTable({[c] { return partner_routes(*c); }, [c] { return admin_routes(*c); }})
class RouteTable final : public RouteProvider {
 public:
  using Builder = std::function<std::vector<Route>()>;
  RouteTable(std::initializer_list<Builder> builders) : builders_(builders) {}
  std::vector<Route> routes() override {
    std::vector<Route> all;
    for (const auto& build : builders_) {
      for (auto& route : build()) all.push_back(std::move(route));
    }
    return all;
  }

 private:
  std::vector<Builder> builders_;
};

}  // namespace portico::sdk
