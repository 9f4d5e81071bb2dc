// The top-level commands that run in this process, on the config and the store: `portico serve`,
// `check`, `migrate` and `version` (dispatched by cli.cpp).
#include <nlohmann/json.hpp>

#include "core/app/gateway.hpp"
#include "core/app/runtime.hpp"
#include "core/cli/commands.hpp"
#include "core/observability/build_info.hpp"
#include "portico/api_version.hpp"

namespace portico::app::cli_commands {
namespace {

constexpr const char* kVersion = observability::kGatewayVersion;

}  // namespace

int cmd_serve(const Invocation& inv, std::ostream&, std::ostream&) {
  return serve({inv.config_file, inv.overrides});
}

int cmd_check(const Invocation& inv, std::ostream& out, std::ostream& err) {
  config::Config cfg = load_config(inv.config_file, inv.overrides);
  auto plugins = prepare_plugins_or_fail(cfg);
  // Accepted but risky settings (a short admin token on loopback, the demo fallback token).
  for (const auto& warning : cfg.warnings) err << "warning: " << warning << "\n";
  if (inv.json) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& p : plugins) names.push_back(p.loaded.info.name + "@" + p.loaded.info.version);
    out << nlohmann::json{{"config", cfg.file},
                          {"ok", true},
                          {"plugins", names},
                          {"warnings", cfg.warnings}}
               .dump()
        << "\n";
  } else {
    out << cfg.file << ": ok (" << plugins.size() << " plugin(s) enabled)\n";
  }
  return 0;
}

int cmd_migrate(const Invocation& inv, std::ostream& out, std::ostream&) {
  config::Config cfg = load_config(inv.config_file, inv.overrides);
  auto plugins = prepare_plugins_or_fail(cfg);
  auto db = open_store(cfg, plugins);
  auto report = migrate_all(*db, plugins);
  if (inv.json) {
    nlohmann::json data = nlohmann::json::array();
    for (const auto& step : report)
      data.push_back({{"owner", step.owner}, {"applied", step.applied}});
    out << nlohmann::json{{"database", cfg.storage.path}, {"migrations", data}}.dump() << "\n";
  } else {
    for (const auto& step : report) {
      out << step.owner << ": " << step.applied << " migration(s) applied\n";
    }
  }
  return 0;
}

int cmd_version(const Invocation& inv, std::ostream& out, std::ostream&) {
  std::string api = std::to_string(kPluginApiMajor) + "." + std::to_string(kPluginApiMinor);
  if (inv.json) {
    out << nlohmann::json{{"version", kVersion},
                          {"plugin_api", api},
                          {"build_signature", kBuildSignature}}
               .dump()
        << "\n";
  } else {
    out << "portico " << kVersion << "\nplugin API " << api << "\nbuild signature "
        << kBuildSignature << "\n";
  }
  return 0;
}

}  // namespace portico::app::cli_commands
