// The greeter's route on the SDK's fake host, as a plugin author tests before shipping.
#include <gtest/gtest.h>

#include "greeter.hpp"
#include "portico/sdk/testing.hpp"

namespace {

using portico::Request;
using portico::sdk::testing::FakeHost;

TEST(Greeter, GreetsWithTheConfiguredGreeting) {
  greeter::Plugin plugin;
  FakeHost host("greeter", {{"greeting", "Welcome"}});
  plugin.init(host);
  const auto routes = plugin.routes()->routes();
  ASSERT_EQ(routes.size(), 1u);
  Request request;
  request.method = "GET";
  request.path = "/v1/greeter";
  request.query = "name=Acme";
  const auto response = portico::sdk::testing::call(routes[0], request, host);
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find("Welcome, Acme"), std::string::npos) << response.body;
}

TEST(Greeter, ANameTooLongIsA400NamingTheField) {
  greeter::Plugin plugin;
  FakeHost host("greeter", {{"greeting", "Hi"}});
  plugin.init(host);
  Request request;
  request.method = "GET";
  request.path = "/v1/greeter";
  request.query = "name=" + std::string(65, 'x');
  try {
    portico::sdk::testing::call(plugin.routes()->routes()[0], request, host);
    FAIL() << "no problem thrown";
  } catch (const portico::ProblemError& error) {
    EXPECT_EQ(error.problem().status, 400);
  }
}

}  // namespace
