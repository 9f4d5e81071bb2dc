// hello: the smallest complete Portico plugin. Metadata as constants, a schema with defaults,
// init() reading the validated config, a route answered from memory on the I/O thread, and an
// asynchronous route whose slow work runs on the core's worker pool and stops when cancelled.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/routes.hpp"
#include "portico/sdk/schema.hpp"

// Overridden by the version-selection test fixtures (tests/fixtures/CMakeLists.txt).
#ifndef HELLO_VERSION
#define HELLO_VERSION "1.0.0"
#endif
#ifndef HELLO_GREETING
#define HELLO_GREETING "hello"
#endif

namespace {
using namespace portico;

class HelloRoutes final : public RouteProvider {
 public:
  std::string greeting;
  std::chrono::milliseconds delay{};
  Executor* workers = nullptr;

  std::vector<Route> routes() override {
    Route hello = sdk::route("GET", "/v1/hello", "", [greeting = greeting](const Request&) {
      return Response::json(200, {{"message", greeting}, {"plugin", "hello"},
                                  {"version", HELLO_VERSION}});
    });
    hello.run_on = RunOn::io_thread;  // from memory, in microseconds

    // Stands for blocking work (a query, a render): it must not run on the I/O thread, so the
    // handler hands it to the worker pool and answers from there. A client that leaves, or the
    // handler timeout, cancels it: the loop notices and stops early.
    Route later = sdk::async_route("GET", "/v1/hello/later", "", [this](const Request&, Reply reply) {
      workers->post([reply, delay = delay, greeting = greeting] {
        const auto until = std::chrono::steady_clock::now() + delay;
        while (std::chrono::steady_clock::now() < until) {
          if (reply.cancelled()) return;  // nobody waits for the answer any more
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        reply(Response::json(200, {{"message", greeting}, {"waited_ms", delay.count()}}));
      });
    });
    // Public, so they answer before any auth plugin is configured.
    hello.authenticated = later.authenticated = false;
    return {hello, later};
  }
};

class HelloPlugin final : public Plugin {
 public:
  static constexpr const char* kName = "hello";
  static constexpr const char* kVersion = HELLO_VERSION;

  PluginInfo info() const override {
    return {.name = kName,
            .version = kVersion,
            .description = "Example plugin: GET /v1/hello greets, /v1/hello/later after a delay",
            .priority = 0,
            .kinds = {PluginKind::routes},
            .schema = sdk::schema(
                {sdk::string("greeting").describe("Text of the answer").fallback(HELLO_GREETING),
                 sdk::duration("delay").describe("How long /v1/hello/later works").fallback("0s")})};
  }
  void init(Host& host) override {
    routes_.greeting = host.config().at("greeting").get<std::string>();
    routes_.delay = std::chrono::milliseconds(host.config().at("delay").get<std::int64_t>());
    routes_.workers = &host.workers();
  }
  RouteProvider* routes() override { return &routes_; }

 private:
  HelloRoutes routes_;
};

}  // namespace

PORTICO_PLUGIN(HelloPlugin);
