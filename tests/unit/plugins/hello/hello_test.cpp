// The example plugin, tested the way every plugin author can test theirs: the built library
// build/plugins/hello.so opened as the host opens it, initialised with the SDK's FakeHost
// (portico/sdk/testing.hpp) instead of the core, and its routes called directly. Copy this file
// for a new plugin: one folder tests/unit/plugins/<plugin>/ becomes the binary
// unit_plugins_<plugin>.
//
// The FakeHost's worker pool is a queue: work an asynchronous route posts runs only when the test
// says (queued_workers().run_all(), or sdk::testing::call, which runs it), on the test's thread, so
// "later" is deterministic and cancellation can be set before or during the work.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "portico/plugin.hpp"
#include "portico/sdk/testing.hpp"
#include "tests/unit/plugins/built_plugin.hpp"

namespace portico {
namespace {

using namespace std::chrono_literals;
using sdk::testing::FakeHost;

class HelloPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(library.loaded()) << library.error();
    plugin = library.create();
    ASSERT_NE(plugin, nullptr);
  }
  void TearDown() override {
    routes.clear();  // handlers hold the plugin's code
    plugin.reset();  // before the library that holds its code is closed
  }

  // init() with `config` as the core would pass it: validated, defaults filled in, a duration in
  // milliseconds. Returns the route `path`.
  const Route& route(FakeHost& host, const std::string& path) {
    plugin->init(host);
    EXPECT_NE(plugin->routes(), nullptr);
    routes = plugin->routes()->routes();
    for (const Route& r : routes) {
      if (r.path == path) return r;
    }
    throw std::logic_error("hello has no route " + path);
  }

  test::BuiltPlugin library{"hello.so"};
  std::unique_ptr<Plugin> plugin;
  std::vector<Route> routes;
};

// What an asynchronous route answered, if anything, through a Reply the test holds, with the
// request's cancellation under the test's control (the core cancels when the client leaves or the
// handler timeout passes).
struct Answer {
  std::optional<Response> response;
  std::exception_ptr error;
  bool delivered = false;
};

Reply reply_into(Answer& answer, std::shared_ptr<CancelState> cancel) {
  return Reply(
      [&answer](portico::Answer&& given, std::exception_ptr error) {
        answer.delivered = true;
        if (error) {
          answer.error = std::move(error);
        } else {
          answer.response = std::move(given).take();
        }
      },
      std::move(cancel));
}

TEST_F(HelloPlugin, DescribesItselfWithASchemaOfDefaults) {
  ASSERT_NE(library.descriptor(), nullptr);
  EXPECT_STREQ(library.descriptor()->name, "hello");
  const PluginInfo info = plugin->info();
  EXPECT_EQ(info.name, "hello");
  EXPECT_EQ(info.version, library.descriptor()->version);
  EXPECT_EQ(info.kinds, std::vector<PluginKind>{PluginKind::routes});
  ASSERT_EQ(info.schema.fields.size(), 2u);
  EXPECT_EQ(info.schema.fields[0].key, "greeting");
  EXPECT_EQ(info.schema.fields[0].type, FieldType::string);
  EXPECT_EQ(info.schema.fields[0].default_value, "hello");
  EXPECT_EQ(info.schema.fields[1].key, "delay");
  EXPECT_EQ(info.schema.fields[1].type, FieldType::duration);
  EXPECT_EQ(info.schema.fields[1].default_value, "0s");
  EXPECT_TRUE(plugin->migrations().empty());
}

TEST_F(HelloPlugin, GreetsWithTheConfiguredGreetingFromTheIoThread) {
  FakeHost host("hello", {{"greeting", "bonjour"}, {"delay", 0}});
  const Route& hello = route(host, "/v1/hello");
  EXPECT_EQ(hello.method, "GET");
  EXPECT_FALSE(hello.authenticated) << "public: answers before any auth plugin is configured";
  EXPECT_EQ(hello.run_on, RunOn::io_thread) << "answered from memory";
  ASSERT_FALSE(hello.async_handler);

  const Response response = sdk::testing::call(hello, Request{}, host);
  EXPECT_EQ(response.status, 200);
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body.at("message"), "bonjour");
  EXPECT_EQ(body.at("plugin"), "hello");
  EXPECT_EQ(body.at("version"), plugin->info().version);
  EXPECT_EQ(host.queued_workers().queued(), 0u) << "nothing for the worker pool";
}

TEST_F(HelloPlugin, LaterAnswersFromTheWorkerPool) {
  FakeHost host("hello", {{"greeting", "hi"}, {"delay", 20}});  // 20 ms
  const Route& later = route(host, "/v1/hello/later");
  EXPECT_EQ(later.method, "GET");
  EXPECT_FALSE(later.authenticated);
  ASSERT_TRUE(later.async_handler);

  // The handler only posts the work: nothing is answered until a worker runs it.
  Answer answer;
  later.async_handler(Request{}, reply_into(answer, std::make_shared<CancelState>()));
  EXPECT_FALSE(answer.delivered);
  EXPECT_EQ(host.queued_workers().queued(), 1u);

  EXPECT_EQ(host.queued_workers().run_all(), 1u);
  ASSERT_TRUE(answer.delivered);
  ASSERT_TRUE(answer.response);
  EXPECT_EQ(answer.response->status, 200);
  const auto body = nlohmann::json::parse(answer.response->body);
  EXPECT_EQ(body.at("message"), "hi");
  EXPECT_EQ(body.at("waited_ms"), 20);
}

TEST_F(HelloPlugin, SdkCallRunsTheQueuedWorkForYou) {
  FakeHost host("hello", {{"greeting", "hello"}, {"delay", 0}});
  const Response response = sdk::testing::call(route(host, "/v1/hello/later"), Request{}, host);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(response.body).at("waited_ms"), 0);
}

TEST_F(HelloPlugin, LaterStopsWithoutAnsweringWhenCancelledBeforeTheWorkRuns) {
  FakeHost host("hello", {{"greeting", "hello"}, {"delay", 60'000}});  // a minute, if not cancelled
  const Route& later = route(host, "/v1/hello/later");
  auto cancel = std::make_shared<CancelState>();
  Answer answer;
  later.async_handler(Request{}, reply_into(answer, cancel));
  cancel->cancel();  // the client left

  const auto start = std::chrono::steady_clock::now();
  host.queued_workers().run_all();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "the work noticed and stopped";
  // No greeting: the work returned without replying, and the dropped Reply answered with an error
  // that the core discards for a cancelled request.
  ASSERT_TRUE(answer.delivered);
  EXPECT_FALSE(answer.response);
  EXPECT_TRUE(answer.error);
}

TEST_F(HelloPlugin, LaterStopsEarlyWhenCancelledWhileWorking) {
  FakeHost host("hello", {{"greeting", "hello"}, {"delay", 60'000}});
  const Route& later = route(host, "/v1/hello/later");
  auto cancel = std::make_shared<CancelState>();
  Answer answer;
  later.async_handler(Request{}, reply_into(answer, cancel));

  // The handler timeout, from another thread while the worker (this thread) is in its loop.
  std::thread timeout([cancel] {
    std::this_thread::sleep_for(50ms);
    cancel->cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  host.queued_workers().run_all();
  const auto took = std::chrono::steady_clock::now() - start;
  timeout.join();
  EXPECT_GE(took, 50ms) << "worked until cancelled";
  EXPECT_LT(took, 5s) << "stopped soon after";
  ASSERT_TRUE(answer.delivered);
  EXPECT_FALSE(answer.response);
}

}  // namespace
}  // namespace portico
