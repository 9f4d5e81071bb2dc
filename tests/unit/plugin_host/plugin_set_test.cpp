// From [plugins.*] tables to loaded plugins: version-pinned file selection, one line per refusal,
// and priority order.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/plugin_host/plugin_set.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/plugin_host/plugin_host_test_support.hpp"

namespace portico::plugin_host {
namespace {

namespace fs = std::filesystem;
using test::fixture;
using test::fixture_dir;

config::PluginEntry entry(std::string name, std::string range = "") {
  config::PluginEntry e;
  e.name = std::move(name);
  e.version_range = std::move(range);
  return e;
}

std::string resolve_error(const std::string& dir, const config::PluginEntry& e) {
  try {
    return "resolved " + resolve_plugin_file(dir, e).string();
  } catch (const PluginLoadError& error) {
    return error.what();
  }
}

TEST(ResolvePluginFile, PicksTheNewestVersionSatisfyingTheRange) {
  const std::string dir = fixture_dir().string();
  EXPECT_EQ(resolve_plugin_file(dir, entry("hello")), fixture("hello-1.1.0.so"));
  EXPECT_EQ(resolve_plugin_file(dir, entry("hello", "*")), fixture("hello-1.1.0.so"));
  EXPECT_EQ(resolve_plugin_file(dir, entry("hello", "^1.0")), fixture("hello-1.1.0.so"));
  EXPECT_EQ(resolve_plugin_file(dir, entry("hello", "~1.0")), fixture("hello-1.0.0.so"));
  EXPECT_EQ(resolve_plugin_file(dir, entry("hello", ">=1.0 <1.1")), fixture("hello-1.0.0.so"));
  EXPECT_EQ(resolve_plugin_file(dir, entry("hello", "1.0.0")), fixture("hello-1.0.0.so"));
}

TEST(ResolvePluginFile, FindsTheUnversionedFile) {
  EXPECT_EQ(resolve_plugin_file(PORTICO_PLUGIN_DIR, entry("hello", "^1")),
            test::built_plugin("hello.so"));
}

TEST(ResolvePluginFile, SaysWhichVersionsItFoundWhenNoneMatches) {
  const std::string dir = fixture_dir().string();
  EXPECT_EQ(
      resolve_error(dir, entry("hello", "^2")),
      "plugins.hello: no version of 'hello' in " + dir + " satisfies '^2' (found 1.0.0, 1.1.0)");
  auto pinned = entry("hello", "~1.2");
  pinned.file = "portico.toml";
  pinned.line = 12;
  EXPECT_EQ(resolve_error(dir, pinned), "portico.toml:12 plugins.hello: no version of 'hello' in " +
                                            dir + " satisfies '~1.2' (found 1.0.0, 1.1.0)");
}

TEST(ResolvePluginFile, SaysSoWhenThereIsNoFileAtAll) {
  portico::test::TempDir dir;
  EXPECT_EQ(
      resolve_error(dir.path().string(), entry("hello")),
      "plugins.hello: no plugin file 'hello.so' or 'hello-<version>.so' in " + dir.path().string());
  EXPECT_EQ(resolve_error((dir / "nowhere").string(), entry("hello")),
            "plugins.hello: plugin directory '" + (dir / "nowhere").string() + "' does not exist");
}

TEST(ResolvePluginFile, ReportsARefusedFileAndTheVersionsThatWereFine) {
  portico::test::TempDir dir;
  fs::copy_file(fixture("hello-1.0.0.so"), dir / "hello-1.0.0.so");
  auto broken = dir.write("hello-2.0.0.so", "not a library");
  EXPECT_EQ(resolve_error(dir.path().string(), entry("hello", "^2")),
            "plugins.hello: no version of 'hello' in " + dir.path().string() +
                " satisfies '^2' (found 1.0.0; refused " + broken.string() +
                ": not a shared library (no ELF header))");
  // A sound match wins over a broken file.
  EXPECT_EQ(resolve_plugin_file(dir.path().string(), entry("hello")), dir / "hello-1.0.0.so");
}

TEST(ResolvePluginFile, ALoneRefusedFileIsReportedAsItself) {
  portico::test::TempDir dir;
  fs::copy_file(fixture("wrong_api.so"), dir / "wrong_api.so");
  EXPECT_EQ(resolve_error(dir.path().string(), entry("wrong_api")),
            (dir / "wrong_api.so").string() +
                ": plugin API 99." + std::to_string(PORTICO_PLUGIN_API_MINOR) + ", core speaks " +
                    std::to_string(PORTICO_PLUGIN_API_MAJOR) + "." +
                    std::to_string(PORTICO_PLUGIN_API_MINOR) + " (major versions must match)");
}

TEST(ResolvePluginFile, IgnoresFilesOfOtherPluginsWithASimilarName) {
  portico::test::TempDir dir;
  fs::copy_file(fixture("hello-1.0.0.so"), dir / "hello-1.0.0.so");
  dir.write("hello-world.so", "another plugin");
  dir.write("hello-1.0.0.so.bak", "a backup");
  EXPECT_EQ(resolve_plugin_file(dir.path().string(), entry("hello")), dir / "hello-1.0.0.so");
}

TEST(ResolvePluginFile, UsesAnExplicitPathAndStillHonoursThePin) {
  auto pinned = entry("hello");
  pinned.path = fixture("hello-1.0.0.so").string();
  EXPECT_EQ(resolve_plugin_file("/nonexistent", pinned), fixture("hello-1.0.0.so"));
  pinned.version_range = "^2";
  EXPECT_EQ(resolve_error("/nonexistent", pinned),
            fixture("hello-1.0.0.so").string() + ": version 1.0.0 does not satisfy '^2'");
}

TEST(ResolvePluginFile, RefusesAMalformedRange) {
  EXPECT_EQ(resolve_error(fixture_dir().string(), entry("hello", "^one")),
            "plugins.hello: invalid version range '^one': 'one' is not a version (expected 1, "
            "1.2 or 1.2.3)");
}

config::Config config_with(std::vector<config::PluginEntry> entries) {
  config::Config config;
  config.file = "portico.toml";
  config.plugins_dir = fixture_dir().string();
  config.plugins = std::move(entries);
  return config;
}

std::vector<std::string> names(const PluginSetResult& result) {
  std::vector<std::string> out;
  for (const auto& prepared : result.plugins) out.push_back(prepared.loaded.info.name);
  return out;
}

TEST(PreparePlugins, LoadsEnabledPluginsHighestPriorityFirstThenByName) {
  auto disabled = entry("throwing_factory");
  disabled.enabled = false;
  PluginSetResult result = prepare_plugins(
      config_with({entry("hello", "^1"), entry("priority_high"), entry("alpha"), disabled}));
  EXPECT_EQ(result.errors, std::vector<std::string>{});
  EXPECT_EQ(names(result), (std::vector<std::string>{"priority_high", "alpha", "hello"}));
  const PreparedPlugin& hello = result.plugins[2];
  EXPECT_EQ(hello.loaded.file, fixture("hello-1.1.0.so"));
  EXPECT_EQ(hello.entry.version_range, "^1");
  EXPECT_EQ(hello.settings, (nlohmann::json{{"greeting", "howdy"}, {"delay", 0}}));  // defaults filled in
}

TEST(PreparePlugins, CollectsEveryRefusalAsOneLineAndKeepsTheRest) {
  auto ghost = entry("ghost");
  ghost.file = "portico.toml";
  ghost.line = 30;
  PluginSetResult result = prepare_plugins(config_with(
      {entry("wrong_api"), entry("hello"), entry("no_factory"), ghost, entry("throwing_factory")}));
  EXPECT_EQ(names(result), std::vector<std::string>{"hello"});
  const std::string dir = fixture_dir().string();
  EXPECT_EQ(result.errors,
            (std::vector<std::string>{
                fixture("wrong_api.so").string() +
                    ": plugin API 99." + std::to_string(PORTICO_PLUGIN_API_MINOR) + ", core speaks " +
                    std::to_string(PORTICO_PLUGIN_API_MAJOR) + "." +
                    std::to_string(PORTICO_PLUGIN_API_MINOR) + " (major versions must match)",
                fixture("no_factory.so").string() + ": no portico_create_plugin symbol",
                "portico.toml:30 plugins.ghost: no plugin file 'ghost.so' or "
                "'ghost-<version>.so' in " +
                    dir,
                fixture("throwing_factory.so").string() + ": factory failed: database unreachable",
            }));
}

TEST(PreparePlugins, ReportsInvalidSettingsWithTheConfigErrorFormat) {
  auto hello = entry("hello");
  hello.file = "portico.toml";
  hello.line = 4;
  hello.settings = {{"greeting", 42}, {"greting", "hi"}};
  hello.key_lines = {{"greeting", 5}, {"greting", 6}};
  PluginSetResult result = prepare_plugins(config_with({hello, entry("alpha")}));
  EXPECT_EQ(names(result), std::vector<std::string>{"alpha"});
  ASSERT_EQ(result.errors.size(), 2u);
  // The wording belongs to the config module; the location and key are this module's concern.
  EXPECT_EQ(result.errors[0].rfind("portico.toml:5 plugins.hello.greeting: ", 0), 0u)
      << result.errors[0];
  EXPECT_EQ(result.errors[1].rfind("portico.toml:6 plugins.hello.greting: ", 0), 0u)
      << result.errors[1];
}

}  // namespace
}  // namespace portico::plugin_host
