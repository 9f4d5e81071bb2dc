// `portico partner ...` and `portico key ...` against the real admin routes in-process: output
// tables and JSON, exit codes 0/1/2, did-you-mean, and problems printed with their field errors.
#include <sstream>

#include "core/cli/partner_cli.hpp"
#include "tests/unit/partners/partners_fixture.hpp"

namespace portico::partners::testing {
namespace {

struct CliResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class PartnerCliTest : public AdminRoutesTest {
 protected:
  CliResult run(std::vector<std::string> args) {
    std::string group = args.front();
    args.erase(args.begin());
    std::ostringstream out, err;
    auto connect = [this](const cli::AdminTarget& target) -> cli::AdminTransport {
      last_target = target;
      return [this](const std::string& method, const std::string& path, const std::string& body) {
        requests.push_back(method + " " + path);
        Response response = call(method, path, body);
        return cli::AdminReply{response.status, response.body};
      };
    };
    int code = cli::run_admin_command(group, args, connect, out, err);
    return {code, out.str(), err.str()};
  }
  std::string add_partner(const std::string& name = "Acme") {
    auto result = run({"partner", "add", "--name", name, "--tier", "basic", "--json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return json::parse(result.out)["id"];
  }

  cli::AdminTarget last_target;
  std::vector<std::string> requests;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(PartnerCliTest, PartnerAddPrintsThePartnerAndJsonPrintsTheApiAnswer) {
  auto human = run({"partner", "add", "--name", "Acme", "--tier", "premium", "--cidr",
                    "203.0.113.0/24", "--cidr", "2001:db8::/32", "--rate-limit", "5000"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(contains(human.out, "Created partner ptr_")) << human.out;
  EXPECT_TRUE(contains(human.out, "tier           premium\n")) << human.out;
  EXPECT_TRUE(contains(human.out, "allowed_cidrs  203.0.113.0/24, 2001:db8::/32\n")) << human.out;
  EXPECT_TRUE(contains(human.out, "rate_limit     5000 per tier window\n")) << human.out;

  auto machine = run({"partner", "add", "--name=Beta", "--tier=basic", "--json"});
  ASSERT_EQ(machine.exit_code, 0) << machine.err;
  auto partner = json::parse(machine.out);
  EXPECT_EQ(partner["name"], "Beta");
  EXPECT_EQ(partner["allowed_cidrs"], json::array());
}

TEST_F(PartnerCliTest, ListPrintsAnAlignedTable) {
  add_partner("Acme");
  advance(std::chrono::seconds(1));
  add_partner("서울 Trading");
  auto result = run({"partner", "list"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(header.find("NAME"), first.find("서울"));
  EXPECT_TRUE(contains(second, "Acme"));
  EXPECT_EQ(header.find("TIER"), second.find("basic"));
  auto json_result = run({"partner", "list", "--json"});
  EXPECT_EQ(json::parse(json_result.out)["data"].size(), 2u);
}

TEST_F(PartnerCliTest, ListFollowsEveryPageUnlessAskedForOne) {
  for (int i = 0; i < 3; ++i) add_partner("P" + std::to_string(i));
  requests.clear();
  auto one_page = run({"partner", "list", "--limit", "2", "--json"});
  auto page = json::parse(one_page.out);
  EXPECT_EQ(page["data"].size(), 2u);
  EXPECT_EQ(page["has_more"], true);
  auto next = run({"partner", "list", "--json", "--cursor", page["next_cursor"]});
  EXPECT_EQ(json::parse(next.out)["data"].size(), 1u);
  EXPECT_EQ(requests.front(), "GET /admin/v1/partners?limit=2");
}

TEST_F(PartnerCliTest, UpdateAndDisableTakeEffectOnTheNextLookup) {
  std::string id = add_partner();
  std::string key = service->issue_key(id, json::object())["key"];
  auto updated = run({"partner", "update", id, "--tier", "premium", "--cidr", "10.0.0.0/8"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(keys->find_api_key(key)->tier, "premium");
  auto cleared = run({"partner", "update", id, "--any-ip"});
  EXPECT_TRUE(keys->find_api_key(key)->allowed_cidrs.empty());
  auto disabled = run({"partner", "disable", id});
  ASSERT_EQ(disabled.exit_code, 0) << disabled.err;
  EXPECT_TRUE(contains(disabled.out, "Disabled partner " + id));
  EXPECT_EQ(keys->find_api_key(key)->partner_status, "disabled");
}

TEST_F(PartnerCliTest, ShowPrintsThePartnerAndItsKeys) {
  std::string id = add_partner();
  auto issued = service->issue_key(id, json::object());
  auto result = run({"partner", "show", id});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "name           Acme\n")) << result.out;
  EXPECT_TRUE(contains(result.out, issued["prefix"].get<std::string>())) << result.out;
  EXPECT_FALSE(contains(result.out, issued["key"].get<std::string>()));
}

TEST_F(PartnerCliTest, ShowJsonIncludesTheKeysTheTableListsButNoSecret) {
  std::string id = add_partner();
  auto live = service->issue_key(id, {{"scopes", {"orders:read"}}});
  advance(std::chrono::seconds(1));
  auto test_key = service->issue_key(id, {{"env", "test"}});
  service->revoke_key(id, test_key["id"]);
  auto result = run({"partner", "show", id, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto shown = json::parse(result.out);
  EXPECT_EQ(shown["id"], id);
  EXPECT_EQ(shown["name"], "Acme");
  ASSERT_TRUE(shown["keys"].is_array()) << result.out;
  ASSERT_EQ(shown["keys"].size(), 2u) << result.out;
  // Newest first, as in the table.
  EXPECT_EQ(shown["keys"][0]["id"], test_key["id"]);
  EXPECT_EQ(shown["keys"][0]["status"], "revoked");
  EXPECT_EQ(shown["keys"][0]["env"], "test");
  EXPECT_EQ(shown["keys"][1]["id"], live["id"]);
  EXPECT_EQ(shown["keys"][1]["prefix"], live["prefix"]);
  EXPECT_EQ(shown["keys"][1]["status"], "active");
  EXPECT_EQ(shown["keys"][1]["scopes"], json({"orders:read"}));
  for (const auto& k : shown["keys"]) {
    for (std::string member : {"created_at", "last_used_at", "expires_at", "revoked_at"})
      EXPECT_TRUE(k.contains(member)) << member;
    EXPECT_FALSE(k.contains("key"));
    EXPECT_FALSE(k.contains("hash"));
  }
  EXPECT_FALSE(contains(result.out, live["key"].get<std::string>()));
  EXPECT_FALSE(contains(result.out, test_key["key"].get<std::string>()));

  std::string lonely = add_partner("No Keys Co");
  auto none = json::parse(run({"partner", "show", lonely, "--json"}).out);
  EXPECT_EQ(none["keys"], json::array());
}

TEST_F(PartnerCliTest, AddingATakenNamePrintsWhoHasItAndExits1) {
  std::string id = add_partner("Acme");
  auto again = run({"partner", "add", "--name", " acme ", "--tier", "basic"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.out, "");
  EXPECT_EQ(again.err, "portico partner add: A partner named 'Acme' already exists: " + id +
                           ". Partner names are unique, ignoring case and surrounding "
                           "whitespace.\n");
  std::string other = add_partner("Beta");
  auto renamed = run({"partner", "update", other, "--name", "ACME"});
  EXPECT_EQ(renamed.exit_code, 1);
  std::string taken = "portico partner update: A partner named 'Acme' already exists: " + id;
  EXPECT_TRUE(contains(renamed.err, taken)) << renamed.err;
}

TEST_F(PartnerCliTest, KeyIssueListRotateRevoke) {
  std::string id = add_partner();
  auto issued = run(
      {"key", "issue", id, "--scope", "orders:read", "--scope", "orders:write", "--env", "test"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  EXPECT_TRUE(contains(issued.out, "shown only now")) << issued.out;
  EXPECT_TRUE(contains(issued.out, "  pk_test_")) << issued.out;
  EXPECT_TRUE(contains(issued.out, "scopes      orders:read, orders:write\n")) << issued.out;

  auto all_scopes = run({"key", "issue", id});
  EXPECT_TRUE(contains(all_scopes.out, "scopes      all\n")) << all_scopes.out;

  auto listed = run({"key", "list", id, "--json"});
  std::string key_id;
  json listed_keys = json::parse(listed.out);
  for (const auto& k : listed_keys["data"]) {
    if (k["env"] == "test") key_id = k["id"];
  }
  auto table = run({"key", "list", id});
  EXPECT_TRUE(contains(table.out, key_id));
  std::string plain = issued.out.substr(issued.out.find("  pk_test_") + 2, 40);
  EXPECT_FALSE(contains(table.out, plain)) << "only the prefix is listed";
  EXPECT_TRUE(contains(table.out, plain.substr(0, 12)));

  auto rotated = run({"key", "rotate", id, key_id, "--overlap", "1h"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_TRUE(contains(rotated.out,
                       "The previous key " + key_id + " keeps working until 2026-11-26T11:00:00Z."))
      << rotated.out;
  auto rotated_json = run({"key", "rotate", id, key_id, "--json"});
  EXPECT_EQ(rotated_json.exit_code, 1) << "a rotated key cannot be rotated again";

  auto revoked = run({"key", "revoke", id, key_id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_TRUE(contains(revoked.out, "Revoked " + key_id));
}

TEST_F(PartnerCliTest, ProblemsPrintTheirDetailAndFieldErrorsWithExit1) {
  auto result = run({"partner", "add", "--name", "Acme", "--tier", "gold", "--cidr", "nope"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(
      contains(result.err, "portico partner add: 2 fields are not valid. Nothing was changed.\n"))
      << result.err;
  EXPECT_TRUE(contains(result.err, "\n  tier: unknown tier 'gold'")) << result.err;
  EXPECT_TRUE(contains(result.err, "\n  allowed_cidrs[0]: not an IPv4/IPv6")) << result.err;
  auto missing = run({"partner", "show", "ptr_missing"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "portico partner show: No partner ptr_missing.\n");
  auto scope = run({"key", "issue", add_partner(), "--scope", "orders:wirte"});
  EXPECT_TRUE(contains(scope.err,
                       "scopes[0] unknown scope 'orders:wirte' (did you mean "
                       "'orders:write'?)"))
      << scope.err;
}

TEST_F(PartnerCliTest, UsageErrorsExit2WithHints) {
  auto unknown = run({"partner", "ad"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "unknown command 'ad' (did you mean 'add'?)")) << unknown.err;
  auto flag = run({"partner", "add", "--nmae", "Acme", "--tier", "basic"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_TRUE(contains(flag.err, "unknown option '--nmae' (did you mean '--name'?)")) << flag.err;
  auto required = run({"partner", "add", "--tier", "basic"});
  EXPECT_EQ(required.exit_code, 2);
  EXPECT_TRUE(contains(required.err, "--name is required")) << required.err;
  auto positional = run({"key", "revoke", "ptr_x"});
  EXPECT_EQ(positional.exit_code, 2);
  EXPECT_TRUE(contains(positional.err, "missing KEY_ID")) << positional.err;
  auto extra = run({"partner", "show", "ptr_a", "ptr_b"});
  EXPECT_EQ(extra.exit_code, 2);
  auto nothing = run({"partner", "update", "ptr_a"});
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_TRUE(contains(nothing.err, "nothing to change")) << nothing.err;
  auto overlap = run({"key", "rotate", "ptr_a", "key_b", "--overlap", "soon"});
  EXPECT_EQ(overlap.exit_code, 2);
  auto no_value = run({"key", "issue", "ptr_a", "--scope"});
  EXPECT_EQ(no_value.exit_code, 2);
  EXPECT_TRUE(contains(no_value.err, "--scope needs a value (SCOPE)")) << no_value.err;
  EXPECT_TRUE(requests.empty()) << "usage errors never reach the API";
}

TEST_F(PartnerCliTest, HelpNeedsNoAdminApi) {
  auto group = run({"key", "--help"});
  EXPECT_EQ(group.exit_code, 0);
  EXPECT_TRUE(contains(group.out, "Usage: portico key <issue|list|revoke|rotate>")) << group.out;
  auto sub = run({"key", "rotate", "--help"});
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_TRUE(contains(sub.out, "Usage: portico key rotate PARTNER_ID KEY_ID [options]"))
      << sub.out;
  EXPECT_TRUE(contains(sub.out, "--overlap DURATION")) << sub.out;
  EXPECT_TRUE(contains(sub.out, "--admin URL")) << sub.out;
  EXPECT_EQ(run({"partner"}).exit_code, 2);
  EXPECT_TRUE(requests.empty());
}

TEST_F(PartnerCliTest, AdminUrlAndConfigReachTheTransportFactory) {
  run({"partner", "list", "--admin", "http://127.0.0.1:19901", "-c", "other.toml"});
  EXPECT_EQ(last_target.admin_url, "http://127.0.0.1:19901");
  EXPECT_EQ(last_target.config_file, "other.toml");
}

TEST_F(PartnerCliTest, IdsTypedByHandCannotChangeThePath) {
  auto result = run({"partner", "show", "../../plugins"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(requests.back(), "GET /admin/v1/partners/..%2F..%2Fplugins");
}

TEST_F(PartnerCliTest, TransportFailuresPropagateToTheCaller) {
  std::ostringstream out, err;
  auto failing = [](const cli::AdminTarget&) -> cli::AdminTransport {
    return [](const std::string&, const std::string&, const std::string&) -> cli::AdminReply {
      throw std::runtime_error("cannot reach the admin API at http://127.0.0.1:1: refused");
    };
  };
  EXPECT_THROW(cli::run_admin_command("partner", {"list"}, failing, out, err), std::runtime_error);
}

}  // namespace
}  // namespace portico::partners::testing
