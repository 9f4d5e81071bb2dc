// Route builders, so a route table reads as a table.
//   sdk::admin_route("POST", "/admin/v1/orders/{id}/status", handler)
#pragma once

#include <string>
#include <utility>

#include "portico/plugin.hpp"

namespace portico::sdk {

// A route on the admin listener (under /admin/v1, behind the admin token).
inline Route admin_route(std::string method, std::string path, Handler handler) {
  Route route;
  route.method = std::move(method);
  route.path = std::move(path);
  route.handler = std::move(handler);
  route.admin = true;
  return route;
}

}  // namespace portico::sdk
