// [plugins.<name>] tables become PluginEntries; validate_plugin_config checks them later against
// the plugin's own schema with the same validator as the core sections.
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_helpers.hpp"

namespace portico::config {
namespace {

using nlohmann::json;
using test::errors_of;
using test::parse_ok;
using Errors = std::vector<std::string>;

ConfigField field(std::string key, FieldType type, json default_value = nullptr) {
  ConfigField f;
  f.key = std::move(key);
  f.type = type;
  f.default_value = std::move(default_value);
  return f;
}

std::vector<std::string> plugin_errors(const PluginEntry& entry, const ConfigSchema& schema) {
  try {
    validate_plugin_config(entry, schema);
  } catch (const ConfigException& error) {
    std::vector<std::string> messages;
    for (const auto& e : error.errors()) messages.push_back(e.to_string());
    return messages;
  }
  return {};
}

PluginEntry only_plugin(std::string_view text) {
  Config config = parse_ok(text);
  EXPECT_EQ(config.plugins.size(), 1u);
  return config.plugins.at(0);
}

TEST(PluginEntries, InFileOrderWithCoreKeysAndSettings) {
  Config config = parse_ok(R"([plugins]
dir = "plugins"

[plugins.zeta]
enabled = false
version = "^1.2"
path = "/opt/zeta.so"
retries = 3
endpoint = "https://example.com"

[plugins.alpha]
)");
  EXPECT_EQ(config.plugins_dir, "plugins");
  ASSERT_EQ(config.plugins.size(), 2u);
  const PluginEntry& zeta = config.plugins[0];
  EXPECT_EQ(zeta.name, "zeta");
  EXPECT_FALSE(zeta.enabled);
  EXPECT_EQ(zeta.version_range, "^1.2");
  EXPECT_EQ(zeta.path, "/opt/zeta.so");
  EXPECT_EQ(zeta.file, "cfg.toml");
  EXPECT_EQ(zeta.line, 4);
  EXPECT_EQ(zeta.settings, (json{{"retries", 3}, {"endpoint", "https://example.com"}}));
  EXPECT_EQ(zeta.key_lines, (std::map<std::string, int>{{"retries", 8}, {"endpoint", 9}}));
  EXPECT_TRUE(zeta.overridden_keys.empty());

  const PluginEntry& alpha = config.plugins[1];
  EXPECT_EQ(alpha.name, "alpha");
  EXPECT_TRUE(alpha.enabled);
  EXPECT_EQ(alpha.version_range, "");
  EXPECT_EQ(alpha.path, "");
  EXPECT_EQ(alpha.line, 11);
  EXPECT_EQ(alpha.settings, json::object());
}

TEST(PluginEntries, NestedTablesAndArraysStayInSettings) {
  PluginEntry entry = only_plugin(R"([plugins.cors]
origins = ["https://a.example", "https://b.example"]
[plugins.cors.headers]
x-frame = "deny"
)");
  EXPECT_EQ(entry.settings["origins"], (json{"https://a.example", "https://b.example"}));
  EXPECT_EQ(entry.settings["headers"], (json{{"x-frame", "deny"}}));
  EXPECT_EQ(entry.key_lines.at("headers"), 3);
}

TEST(PluginEntries, CoreKeysAreValidated) {
  EXPECT_EQ(errors_of("[plugins.auth]\nenabled = \"yes\"\nversion = 1\n"),
            (Errors{"cfg.toml:2 plugins.auth.enabled: expected a boolean, got a string",
                    "cfg.toml:3 plugins.auth.version: expected a string, got an integer"}));
}

TEST(PluginEntries, TyposInThePluginsSection) {
  EXPECT_EQ(errors_of("[plugins]\ndirs = \"x\"\n"),
            Errors{"cfg.toml:2 plugins.dirs: unknown key (did you mean 'dir'?)"});
}

TEST(PluginEntries, OverriddenKeyInAFileTable) {
  Config config = parse_ok("[plugins.webhook]\ntimeout = \"5s\"\n", {"plugins.webhook.retries=2"});
  ASSERT_EQ(config.plugins.size(), 1u);
  const PluginEntry& entry = config.plugins[0];
  EXPECT_EQ(entry.file, "cfg.toml");
  EXPECT_EQ(entry.line, 1);
  EXPECT_EQ(entry.key_lines.at("timeout"), 2);
  EXPECT_EQ(entry.key_lines.at("retries"), 0);
  EXPECT_EQ(entry.overridden_keys, std::set<std::string>{"retries"});
}

ConfigSchema every_type_schema() {
  ConfigSchema schema;
  schema.fields = {
      field("name", FieldType::string, "svc"),
      field("count", FieldType::integer, 3),
      field("ratio", FieldType::number, 0.5),
      field("verbose", FieldType::boolean, false),
      field("timeout", FieldType::duration, "10s"),
      field("max_payload", FieldType::size, "64KiB"),
      field("hosts", FieldType::string_array, json::array()),
      field("headers", FieldType::table, json::object()),
  };
  return schema;
}

TEST(ValidatePluginConfig, ConvertsEveryFieldType) {
  PluginEntry entry = only_plugin(R"([plugins.demo]
name = "orders"
count = 7
ratio = 2
verbose = true
timeout = "1m30s"
max_payload = "1MB"
hosts = ["a", "b"]
headers = { x = "y", n = 1 }
)");
  json values = validate_plugin_config(entry, every_type_schema());
  EXPECT_EQ(values, (json{{"name", "orders"},
                          {"count", 7},
                          {"ratio", 2.0},
                          {"verbose", true},
                          {"timeout", 90'000},
                          {"max_payload", 1'000'000},
                          {"hosts", {"a", "b"}},
                          {"headers", {{"x", "y"}, {"n", 1}}}}));
  EXPECT_TRUE(values["ratio"].is_number_float());
}

TEST(ValidatePluginConfig, FillsDefaults) {
  PluginEntry entry = only_plugin("[plugins.demo]\n");
  json values = validate_plugin_config(entry, every_type_schema());
  EXPECT_EQ(values, (json{{"name", "svc"},
                          {"count", 3},
                          {"ratio", 0.5},
                          {"verbose", false},
                          {"timeout", 10'000},
                          {"max_payload", 65'536},
                          {"hosts", json::array()},
                          {"headers", json::object()}}));
}

TEST(ValidatePluginConfig, KeyWithoutDefaultStaysAbsent) {
  ConfigSchema schema{{field("secret", FieldType::string)}};
  EXPECT_EQ(validate_plugin_config(only_plugin("[plugins.demo]\n"), schema), json::object());
}

TEST(ValidatePluginConfig, SizeAcceptsBareIntegersAndDurationDefaultsMayBeMilliseconds) {
  ConfigSchema schema{
      {field("max_payload", FieldType::size), field("ttl", FieldType::duration, 500)}};
  json values = validate_plugin_config(only_plugin("[plugins.demo]\nmax_payload = 2048\n"), schema);
  EXPECT_EQ(values, (json{{"max_payload", 2048}, {"ttl", 500}}));
}

TEST(ValidatePluginConfig, Ranges) {
  ConfigSchema schema{{field("count", FieldType::integer), field("ratio", FieldType::number),
                       field("timeout", FieldType::duration), field("payload", FieldType::size)}};
  schema.fields[0].min = 1;
  schema.fields[0].max = 10;
  schema.fields[1].max = 1;
  schema.fields[2].max = 60'000;
  schema.fields[3].max = 1 << 20;
  PluginEntry entry = only_plugin(R"([plugins.demo]
count = 11
ratio = 1.5
timeout = "2m"
payload = "2MiB"
)");
  EXPECT_EQ(plugin_errors(entry, schema),
            (Errors{"cfg.toml:2 plugins.demo.count: must be at most 10, got 11",
                    "cfg.toml:3 plugins.demo.ratio: must be at most 1, got 1.5",
                    "cfg.toml:4 plugins.demo.timeout: must be at most 1m, got 2m",
                    "cfg.toml:5 plugins.demo.payload: must be at most 1MiB, got 2MiB"}));
  EXPECT_EQ(plugin_errors(only_plugin("[plugins.demo]\ncount = 0\n"), schema),
            Errors{"cfg.toml:2 plugins.demo.count: must be at least 1, got 0"});
}

TEST(ValidatePluginConfig, OneOf) {
  ConfigSchema schema{{field("mode", FieldType::string, "fast")}};
  schema.fields[0].one_of = {"fast", "safe"};
  EXPECT_EQ(plugin_errors(only_plugin("[plugins.demo]\nmode = \"slow\"\n"), schema),
            Errors{"cfg.toml:2 plugins.demo.mode: must be one of fast, safe; got \"slow\""});
  EXPECT_EQ(validate_plugin_config(only_plugin("[plugins.demo]\n"), schema)["mode"], "fast");
}

TEST(ValidatePluginConfig, RequiredReportedAtTheTableHeader) {
  ConfigSchema schema{{field("url", FieldType::string)}};
  schema.fields[0].required = true;
  EXPECT_EQ(plugin_errors(only_plugin("[server]\nthreads = 1\n\n[plugins.demo]\n"), schema),
            Errors{"cfg.toml:4 plugins.demo.url: required key is missing"});
}

TEST(ValidatePluginConfig, UnknownKeyHintsAgainstTheSchema) {
  ConfigSchema schema{
      {field("timeout", FieldType::duration), field("retries", FieldType::integer)}};
  EXPECT_EQ(plugin_errors(only_plugin("[plugins.demo]\ntimeuot = \"1s\"\nzzz = 1\n"), schema),
            (Errors{"cfg.toml:2 plugins.demo.timeuot: unknown key (did you mean 'timeout'?)",
                    "cfg.toml:3 plugins.demo.zzz: unknown key"}));
}

TEST(ValidatePluginConfig, WrongTypesAndBadUnits) {
  PluginEntry entry = only_plugin(R"([plugins.demo]
count = "3"
verbose = 1
timeout = "10 sec"
max_payload = "1 megabyte"
hosts = ["a", 1]
headers = "x"
)");
  EXPECT_EQ(plugin_errors(entry, every_type_schema()),
            (Errors{"cfg.toml:2 plugins.demo.count: expected an integer, got a string",
                    "cfg.toml:3 plugins.demo.verbose: expected a boolean, got an integer",
                    "cfg.toml:4 plugins.demo.timeout: invalid duration \"10 sec\" (use a number "
                    "with ms, s, m, h or d, e.g. \"10s\")",
                    "cfg.toml:5 plugins.demo.max_payload: invalid size \"1 megabyte\" (use bytes "
                    "or KiB, MiB, GiB, e.g. \"1MiB\")",
                    "cfg.toml:6 plugins.demo.hosts: expected an array of strings, got an array",
                    "cfg.toml:7 plugins.demo.headers: expected a table, got a string"}));
}

TEST(ValidatePluginConfig, OverriddenKeysAreReportedFromSet) {
  Config config = parse_ok("", {"plugins.demo.count=many"});
  ASSERT_EQ(config.plugins.size(), 1u);
  EXPECT_EQ(plugin_errors(config.plugins[0], every_type_schema()),
            Errors{"--set plugins.demo.count: expected an integer, got a string"});
}

TEST(ValidatePluginConfig, EntryBuiltInCode) {
  PluginEntry entry;
  entry.name = "demo";
  entry.file = "gateway.toml";
  entry.line = 5;
  entry.settings = {{"count", "x"}};
  EXPECT_EQ(plugin_errors(entry, every_type_schema()),
            Errors{"gateway.toml plugins.demo.count: expected an integer, got a string"});
}

}  // namespace
}  // namespace portico::config
