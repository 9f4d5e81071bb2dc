// The greeter plugin's code, apart from the export macro so the unit tests can build it too.
// GET /v1/greeter?name=... answers {"message": "<greeting>, <name>", "plugin": "greeter"}.
#pragma once

#include <string>
#include <vector>

#include "portico/plugin.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/routes.hpp"
#include "portico/sdk/schema.hpp"

namespace greeter {

using namespace portico;

inline constexpr std::size_t kMaxName = 64;

class Routes final : public RouteProvider {
 public:
  std::string greeting;

  std::vector<Route> routes() override {
    Route greet = sdk::route("GET", "/v1/greeter", "", [this](const Request& request) {
      const std::string name = request.query_param("name").value_or("partner");
      if (name.empty() || name.size() > kMaxName) {
        throw sdk::invalid_request("The name to greet must be 1 to 64 characters.",
                                   {{"name", "must be 1 to 64 characters"}});
      }
      return Response::json(200, {{"message", greeting + ", " + name}, {"plugin", "greeter"}});
    });
    greet.run_on = RunOn::io_thread;  // from memory, in microseconds
    greet.authenticated = false;      // public, like /v1/hello
    return {greet};
  }
};

class Plugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "greeter";
  static constexpr const char* kVersion = "1.0.0";

  PluginInfo info() const override {
    return {.name = kName,
            .version = kVersion,
            .description = "Out-of-tree example: GET /v1/greeter",
            .priority = 0,
            .kinds = {PluginKind::routes},
            .schema = sdk::schema(
                {sdk::string("greeting").describe("How the answer begins").fallback("Hello")})};
  }
  void init(Host& host) override { routes_.greeting = host.config().at("greeting").get<std::string>(); }
  RouteProvider* routes() override { return &routes_; }

 private:
  Routes routes_;
};

}  // namespace greeter
