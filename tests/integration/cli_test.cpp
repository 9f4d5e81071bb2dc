// The `portico` CLI as an operator runs it: check, plugins, migrate, version, usage errors, and
// plugin/config refusals that stop `serve` with exit code 2 and one line per problem.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "portico/api_version.hpp"
#include "tests/integration/gateway_fixture.hpp"

namespace portico::test {
namespace {

using json = nlohmann::json;

std::vector<std::string> with_scratch(std::vector<std::string> args, const TempDir& dir) {
  for (auto& a : scratch_overrides(dir, free_port(), free_port())) args.push_back(a);
  return args;
}

TEST(Cli, CheckAcceptsTheDemoConfig) {
  // This build's plugins: a sanitizer build refuses the others by their build signature.
  auto result = run_portico({"check", "-c", "configs/portico.toml", "--set",
                             "plugins.dir=" + std::string(PORTICO_PLUGIN_DIR)});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("configs/portico.toml: ok"), std::string::npos) << result.output;
}

TEST(Cli, CheckAcceptsEveryEnvironmentConfig) {
  for (std::string env : {"dev", "staging", "production"}) {
    // Staging and production look for plugins where the package installs them; use the build's.
    auto result = run_portico(
        {"check", "-c", "configs/" + env + ".toml", "--set",
         "plugins.dir=" + std::string(PORTICO_PLUGIN_DIR)},
        std::chrono::seconds(30),
        {"PORTICO_ADMIN_TOKEN=t", "PORTICO_KEY_SECRET=0123456789abcdef0123456789abcdef",
         "PORTICO_DATA_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"});
    EXPECT_EQ(result.exit_code, 0) << env << ": " << result.output;
  }
}

TEST(Cli, CheckNamesFileLineAndKeyOfABrokenConfig) {
  TempDir dir;
  std::string text = read_file(demo_config());
  auto pos = text.find("[server]");
  ASSERT_NE(pos, std::string::npos);
  text.insert(pos + 9, "listne = \"127.0.0.1:1\"\n");
  auto file = dir.write("broken.toml", text);
  int line = 1;
  for (std::size_t i = 0; i < pos + 9; ++i) line += text[i] == '\n';
  auto result = run_portico({"check", "-c", file.string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find(file.string() + ":" + std::to_string(line) +
                               " server.listne: unknown key (did you mean 'listen'?)"),
            std::string::npos)
      << result.output;
}

TEST(Cli, SetOverridesAreValidatedToo) {
  auto result =
      run_portico({"check", "-c", "configs/portico.toml", "--set", "server.threads=many"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("--set server.threads: expected an integer, got a string"),
            std::string::npos)
      << result.output;
}

TEST(Cli, ServeRefusesAMissingPluginWithOneLineAndExit2) {
  TempDir dir;
  auto result = run_portico(with_scratch(
      {"serve", "-c", "configs/portico.toml", "--set", "plugins.no_such_plugin.enabled=true"},
      dir));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("no_such_plugin"), std::string::npos) << result.output;
}

TEST(Cli, ServeRefusesAPluginBuiltForAnotherApiVersion) {
  TempDir dir;
  std::string fixture = std::string(PORTICO_BINARY_DIR) + "/test-fixtures/wrong_api.so";
  auto result = run_portico(with_scratch({"serve", "-c", "configs/portico.toml", "--set",
                                          "plugins.wrong_api.path=\"" + fixture + "\""},
                                         dir));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  const std::string ours =
      std::to_string(PORTICO_PLUGIN_API_MAJOR) + "." + std::to_string(PORTICO_PLUGIN_API_MINOR);
  EXPECT_NE(
      result.output.find(fixture + ": plugin API 99." + std::to_string(PORTICO_PLUGIN_API_MINOR) +
                         ", core speaks " + ours + " (major versions must match)"),
      std::string::npos)
      << result.output;
}

// storage.backend other than "sqlite" opens the database through the store plugin of that name.
TEST(Cli, AStoreBackendIsAPluginTheCoreOpensTheDatabaseWith) {
  TempDir dir;
  std::string fixture = std::string(PORTICO_BINARY_DIR) + "/test-fixtures/store_fixture.so";
  auto result = run_portico(with_scratch(
      {"migrate", "-c", "configs/portico.toml", "--set", "storage.backend=\"store_fixture\"",
       "--set", "plugins.store_fixture.path=\"" + fixture + "\""},
      dir));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("cannot open the database with store plugin 'store_fixture' (" +
                               fixture +
                               "): the fixture store was asked to open the database with {} and "
                               "has none"),
            std::string::npos)
      << result.output;

  auto unknown = run_portico(with_scratch(
      {"migrate", "-c", "configs/portico.toml", "--set", "storage.backend=\"nosuch\""}, dir));
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("storage.backend: 'nosuch' is neither the built-in 'sqlite' nor "
                                "an enabled store plugin (add a [plugins.store_nosuch] table"),
            std::string::npos)
      << unknown.output;

  auto not_a_store = run_portico(with_scratch(
      {"migrate", "-c", "configs/portico.toml", "--set", "storage.backend=\"hello\""}, dir));
  EXPECT_EQ(not_a_store.exit_code, 2) << not_a_store.output;
  EXPECT_NE(not_a_store.output.find("storage.backend: plugin 'hello'"), std::string::npos)
      << not_a_store.output;
  EXPECT_NE(not_a_store.output.find("provides no store"), std::string::npos) << not_a_store.output;
}

TEST(Cli, ServeReportsABadPluginSettingWithItsKey) {
  TempDir dir;
  auto result = run_portico(with_scratch(
      {"check", "-c", "configs/portico.toml", "--set", "plugins.hello.greting=\"hi\""}, dir));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("plugins.hello.greting: unknown key (did you mean 'greeting'?)"),
            std::string::npos)
      << result.output;
}

TEST(Cli, PluginsListsNameVersionKindsAndFile) {
  auto result = run_portico({"plugins", "-c", "configs/portico.toml", "--json", "--set",
                             "plugins.dir=" + std::string(PORTICO_PLUGIN_DIR)});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto data = json::parse(result.output)["data"];
  bool found = false;
  for (const auto& p : data) {
    if (p["name"] == "hello") {
      found = true;
      EXPECT_EQ(p["version"], "1.0.0");
      EXPECT_NE(p["file"].get<std::string>().find("hello"), std::string::npos);
    }
  }
  EXPECT_TRUE(found);
}

// Every column is as wide as its widest cell or header (ratelimit_sliding_window is longer than
// a fixed NAME column), so each cell starts under its header.
TEST(Cli, PluginsTableSizesEveryColumnToItsContent) {
  auto result = run_portico({"plugins", "-c", "configs/portico.toml", "--set",
                             "plugins.dir=" + std::string(PORTICO_PLUGIN_DIR)});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::istringstream lines(result.output);
  std::string header;
  std::getline(lines, header);
  std::vector<std::size_t> starts;
  for (std::string column : {"NAME", "VERSION", "PRIORITY", "KINDS", "API", "FILE"}) {
    auto at = header.find(column);
    ASSERT_NE(at, std::string::npos) << header;
    starts.push_back(at);
  }
  bool long_name = false;
  int rows = 0;
  for (std::string line; std::getline(lines, line);) {
    ++rows;
    long_name = long_name || line.starts_with("ratelimit_sliding_window ");
    for (std::size_t c = 1; c < starts.size(); ++c) {
      ASSERT_GT(line.size(), starts[c]) << line;
      std::string where = "column " + std::to_string(c) + ":\n" + header + "\n" + line;
      EXPECT_EQ(line.substr(starts[c] - 2, 2), "  ") << where;
      EXPECT_NE(line[starts[c]], ' ') << where;
    }
  }
  EXPECT_GE(rows, 2) << result.output;
  EXPECT_TRUE(long_name) << result.output;
}

TEST(Cli, MigrateAppliesOnceAndRecords) {
  TempDir dir;
  std::vector<std::string> args{"migrate",
                                "-c",
                                "configs/portico.toml",
                                "--json",
                                "--set",
                                "storage.path=" + (dir / "m.db").string(),
                                "--set",
                                "plugins.dir=" + std::string(PORTICO_PLUGIN_DIR)};
  auto first = run_portico(args);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto steps = json::parse(first.output)["migrations"];
  EXPECT_EQ(steps[0]["owner"], "core");
  EXPECT_GE(steps[0]["applied"].get<int>(), 1);
  auto second = run_portico(args);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  // Kept in a variable: a range-for over a member of a temporary reads freed memory (ASan).
  const json again = json::parse(second.output);
  for (const auto& step : again["migrations"]) EXPECT_EQ(step["applied"], 0);
}

TEST(Cli, VersionPrintsTheBuildSignature) {
  auto result = run_portico({"version", "--json"});
  ASSERT_EQ(result.exit_code, 0);
  auto v = json::parse(result.output);
  EXPECT_EQ(v["plugin_api"], "3.2");
  EXPECT_FALSE(v["build_signature"].get<std::string>().empty());
}

TEST(Cli, UnknownCommandAndOptionGetHints) {
  auto cmd = run_portico({"serv"});
  EXPECT_EQ(cmd.exit_code, 2);
  EXPECT_NE(cmd.output.find("unknown command 'serv' (did you mean 'serve'?)"), std::string::npos);
  auto opt = run_portico({"check", "--jsn"});
  EXPECT_EQ(opt.exit_code, 2);
  EXPECT_NE(opt.output.find("unknown option '--jsn' for 'check' (did you mean '--json'?)"),
            std::string::npos)
      << opt.output;
}

TEST(Cli, EveryCommandHasHelp) {
  for (std::string c : {"serve", "check", "plugins", "migrate", "version"}) {
    auto result = run_portico({c, "--help"});
    EXPECT_EQ(result.exit_code, 0) << c;
    EXPECT_NE(result.output.find("Usage: portico " + c), std::string::npos) << result.output;
  }
}

TEST(Cli, ConfigFromEnvironment) {
  auto result =
      run_portico({"check"}, std::chrono::seconds(30), {"PORTICO_CONFIG=configs/no-such.toml"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("configs/no-such.toml: cannot read file"), std::string::npos)
      << result.output;
}

TEST(Cli, PortInUseIsAClearRuntimeError) {
  Gateway running;
  TempDir dir;
  auto args = with_scratch({"serve", "-c", "configs/portico.toml"}, dir);
  args.push_back("--set");
  args.push_back("server.listen=127.0.0.1:" + std::to_string(running.port));
  auto result = run_portico(args);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("cannot listen on 127.0.0.1:" + std::to_string(running.port)),
            std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace portico::test
