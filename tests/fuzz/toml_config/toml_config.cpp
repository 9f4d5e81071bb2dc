// Fuzz target: the configuration loader. The input is a config file's text; a line that is
// exactly `#@set` ends it, and each line after it is one `--set section.key=value` override (a
// TOML comment, so seeds stay valid config files). The text goes through config::parse — toml++,
// the overrides, ${VAR} / ${VAR:-fallback} substitution against a fixed environment, the core
// schemas, the typed Config — and each [plugins.<name>] table that comes out is validated
// against a schema with every field type a plugin can declare.
//
// Expected: a ConfigException (exit 2, `file:line key: problem`) whose messages are valid UTF-8
// (they are answered as JSON by a refused reload). Anything else escaping aborts.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "portico/sdk/schema.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace config = portico::config;
namespace fuzz = portico::fuzz;
namespace sdk = portico::sdk;

std::optional<std::string> environment(const std::string& name) {
  static const std::map<std::string, std::string> kEnv = {
      {"PORTICO_ADMIN_TOKEN", "fuzz-admin-token-0123456789abcdef"},
      {"PORTICO_KEY_SECRET", "0123456789abcdef0123456789abcdef"},
      {"EMPTY", ""},
      {"PORT", "8080"},
      {"HOST", "127.0.0.1"},
      {"NESTED", "${PORTICO_ADMIN_TOKEN}"},
  };
  auto it = kEnv.find(name);
  if (it == kEnv.end()) return std::nullopt;
  return it->second;
}

const portico::ConfigSchema& plugin_schema() {
  static const portico::ConfigSchema schema = sdk::schema({
      sdk::string("greeting").fallback("hello"),
      sdk::string("mode").one_of({"fast", "exact"}),
      sdk::integer("max_keys").min(1).max(1'000'000).fallback(100000),
      sdk::number("ratio").min(0).max(1),
      sdk::boolean("allow_private_targets").fallback(false),
      sdk::duration("idempotency_retention").min(24.0 * 3600 * 1000).fallback("24h"),
      sdk::size("max_body").max(64.0 * 1024 * 1024),
      sdk::string_array("events"),
      sdk::table("headers"),
      sdk::string("url").required(),
  });
  return schema;
}

void load(std::string_view input) {
  std::string_view text = input;
  std::vector<std::string> overrides;
  static constexpr std::string_view kMarker = "\n#@set\n";
  if (const std::size_t at = input.find(kMarker); at != std::string_view::npos) {
    text = input.substr(0, at + 1);
    for (std::string_view line : fuzz::split(input.substr(at + kMarker.size()), '\n', 64)) {
      overrides.emplace_back(line);
    }
  }
  const config::Config loaded = config::parse(text, "fuzz.toml", overrides, environment);
  fuzz::check(loaded.server.max_json_depth >= 1, "max_json_depth below 1 accepted");
  fuzz::check(!loaded.server.listen.to_string().empty(), "empty listen address");
  for (const auto& plugin : loaded.plugins) {
    fuzz::expect_only<config::ConfigException>([&] {
      const nlohmann::json settings = config::validate_plugin_config(plugin, plugin_schema());
      fuzz::check(settings.is_object(), "validated plugin settings are not an object");
      fuzz::expect_only<fuzz::Never>([&] { (void)settings.dump(); });
    });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  fuzz::expect_only<fuzz::Never>([&] {
    try {
      load(input);
    } catch (const config::ConfigException& refused) {
      // `check` prints these and a refused reload answers them as JSON: each one must be text
      // that JSON can carry.
      nlohmann::json lines = nlohmann::json::array();
      for (const auto& error : refused.errors()) lines.push_back(error.to_string());
      (void)lines.dump();
    }
  });
  return 0;
}
