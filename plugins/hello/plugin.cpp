// hello: the smallest complete Portico plugin. Metadata as constants, a schema with a default,
// init() reading the validated config, and one public route.
#include <string>
#include <vector>

#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/schema.hpp"

// Overridden by the version-selection test fixtures (tests/fixtures/CMakeLists.txt).
#ifndef HELLO_VERSION
#define HELLO_VERSION "1.0.0"
#endif
#ifndef HELLO_GREETING
#define HELLO_GREETING "hello"
#endif

namespace {

class HelloRoutes final : public portico::RouteProvider {
 public:
  std::string greeting;
  std::vector<portico::Route> routes() override {
    auto answer = [greeting = greeting](const portico::Request&) {
      return portico::Response::json(
          200, {{"message", greeting}, {"plugin", "hello"}, {"version", HELLO_VERSION}});
    };
    // Public (authenticated = false) so it answers before any auth plugin is configured.
    return {{"GET", "/v1/hello", "", false, answer}};
  }
};

class HelloPlugin final : public portico::Plugin {
 public:
  static constexpr const char* kName = "hello";
  static constexpr const char* kVersion = HELLO_VERSION;

  portico::PluginInfo info() const override {
    namespace sdk = portico::sdk;
    return {.name = kName,
            .version = kVersion,
            .description = "Example plugin: GET /v1/hello answers with a greeting",
            .priority = 0,
            .kinds = {portico::PluginKind::routes},
            .schema = sdk::schema(
                {sdk::string("greeting").describe("Text of the answer").fallback(HELLO_GREETING)})};
  }
  void init(portico::Host& host) override {
    routes_.greeting = host.config().at("greeting").get<std::string>();
  }
  portico::RouteProvider* routes() override { return &routes_; }

 private:
  HelloRoutes routes_;
};

}  // namespace

PORTICO_PLUGIN(HelloPlugin);
