// `portico partner …` and `portico key …` against a running gateway: the CLI is a client of the
// admin API, so a revocation made from the shell holds on the very next partner request.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/gateway_fixture.hpp"

namespace portico::test {
namespace {

using json = nlohmann::json;

struct Cli {
  std::uint16_t admin_port;
  CommandResult run(std::vector<std::string> args) {
    args.push_back("--admin");
    args.push_back("http://127.0.0.1:" + std::to_string(admin_port));
    return run_portico(args, std::chrono::seconds(30), {"PORTICO_ADMIN_TOKEN=test-admin-token"});
  }
};

TEST(CliPartners, AddIssueRevokeRoundTrip) {
  Gateway gw;
  Cli cli{gw.admin_port};
  auto added = cli.run({"partner", "add", "--name", "Shell Co", "--tier", "basic", "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.output;
  std::string partner = json::parse(added.output)["id"];

  auto issued = cli.run({"key", "issue", partner, "--scope", "usage:read", "--json"});
  ASSERT_EQ(issued.exit_code, 0) << issued.output;
  auto key = json::parse(issued.output);
  std::string plain = key["key"];
  ASSERT_EQ(http_request(gw.port, "GET", "/v1/usage", {{"X-API-Key", plain}}).status, 200);

  auto listed = cli.run({"key", "list", partner});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find(key["id"].get<std::string>()), std::string::npos) << listed.output;
  EXPECT_EQ(listed.output.find(plain), std::string::npos);

  auto revoked = cli.run({"key", "revoke", partner, key["id"]});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
  EXPECT_EQ(http_request(gw.port, "GET", "/v1/usage", {{"X-API-Key", plain}}).status, 401);
}

TEST(CliPartners, DisableStopsEveryKey) {
  Gateway gw;
  Cli cli{gw.admin_port};
  auto added = cli.run({"partner", "add", "--name", "Gone Co", "--tier", "premium", "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.output;
  std::string partner = json::parse(added.output)["id"];
  std::string plain = json::parse(cli.run({"key", "issue", partner, "--json"}).output)["key"];
  ASSERT_EQ(http_request(gw.port, "GET", "/v1/usage", {{"X-API-Key", plain}}).status, 200);
  ASSERT_EQ(cli.run({"partner", "disable", partner}).exit_code, 0);
  EXPECT_EQ(http_request(gw.port, "GET", "/v1/usage", {{"X-API-Key", plain}}).status, 401);
  auto shown = cli.run({"partner", "show", partner, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("disabled"), std::string::npos);
}

TEST(CliPartners, ATakenNameIsRefusedWithTheExistingPartnersId) {
  Gateway gw;
  Cli cli{gw.admin_port};
  auto added = cli.run({"partner", "add", "--name", "Acme", "--tier", "basic", "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.output;
  std::string partner = json::parse(added.output)["id"];
  auto again = cli.run({"partner", "add", "--name", "  ACME ", "--tier", "premium"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find(
                "portico partner add: A partner named 'Acme' already exists: " + partner + "."),
            std::string::npos)
      << again.output;
  auto raw = http_request(
      gw.admin_port, "POST", "/admin/v1/partners",
      {{"Authorization", "Bearer test-admin-token"}, {"Content-Type", "application/json"}},
      R"({"name": "acme", "tier": "basic"})");
  EXPECT_EQ(raw.status, 409) << raw.body;
  EXPECT_EQ(json::parse(raw.body)["code"], "partner_exists");
  EXPECT_TRUE(raw.header("Content-Type").value_or("").starts_with("application/problem+json"));
  auto listed = cli.run({"partner", "list", "--json"});
  EXPECT_EQ(json::parse(listed.output)["data"].size(), 1u) << listed.output;
}

TEST(CliPartners, ShowJsonListsTheKeysLikeTheText) {
  Gateway gw;
  Cli cli{gw.admin_port};
  std::string partner = json::parse(
      cli.run({"partner", "add", "--name", "Keyed Co", "--tier", "basic", "--json"}).output)["id"];
  auto key = json::parse(cli.run({"key", "issue", partner, "--json"}).output);
  auto text = cli.run({"partner", "show", partner});
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find(key["prefix"].get<std::string>()), std::string::npos) << text.output;
  auto shown = cli.run({"partner", "show", partner, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  auto body = json::parse(shown.output);
  ASSERT_EQ(body["keys"].size(), 1u) << shown.output;
  EXPECT_EQ(body["keys"][0]["id"], key["id"]);
  EXPECT_EQ(body["keys"][0]["prefix"], key["prefix"]);
  EXPECT_EQ(body["keys"][0]["status"], "active");
  EXPECT_EQ(shown.output.find(key["key"].get<std::string>()), std::string::npos);
}

TEST(CliPartners, UnknownTierIsRefusedWithTheApisDetail) {
  Gateway gw;
  Cli cli{gw.admin_port};
  auto res = cli.run({"partner", "add", "--name", "X", "--tier", "platinum"});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.output.find("platinum"), std::string::npos) << res.output;
}

TEST(CliPartners, UnreachableAdminApiIsAClearError) {
  auto res = run_portico({"partner", "list", "--admin", "http://127.0.0.1:1"});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.output.find("cannot reach the admin API at http://127.0.0.1:1"), std::string::npos)
      << res.output;
}

TEST(CliPartners, WrongTokenIsExplained) {
  Gateway gw;
  auto res = run_portico(
      {"partner", "list", "--admin", "http://127.0.0.1:" + std::to_string(gw.admin_port)},
      std::chrono::seconds(30), {"PORTICO_ADMIN_TOKEN=wrong"});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.output.find("Check the admin token (PORTICO_ADMIN_TOKEN or admin.token)"),
            std::string::npos)
      << res.output;
}

}  // namespace
}  // namespace portico::test
