#include "core/app/runtime.hpp"

#include <nlohmann/json.hpp>

#include "core/storage/migrations.hpp"
#include "core/storage/sqlite_database.hpp"

namespace portico::app {

StartupError::StartupError(std::vector<std::string> lines, int exit_code)
    : std::runtime_error(lines.empty() ? "start-up failed" : lines.front()),
      lines_(std::move(lines)),
      exit_code_(exit_code) {}

config::Config load_config(const std::string& file, const std::vector<std::string>& overrides) {
  try {
    return config::load(file, overrides);
  } catch (const config::ConfigException& e) {
    std::vector<std::string> lines;
    for (const auto& error : e.errors()) lines.push_back(error.to_string());
    throw StartupError(std::move(lines), 2);
  }
}

std::vector<plugin_host::PreparedPlugin> prepare_plugins_or_fail(const config::Config& config) {
  auto result = plugin_host::prepare_plugins(config);
  if (!result.errors.empty()) throw StartupError(result.errors, 2);
  return std::move(result.plugins);
}

std::shared_ptr<Database> open_store(const config::Config& config) {
  if (config.storage.backend != "sqlite") {
    throw StartupError({config.file + " storage.backend: unknown backend '" +
                        config.storage.backend + "' (available: sqlite)"},
                       2);
  }
  try {
    return storage::open_sqlite({config.storage.path});
  } catch (const std::exception& e) {
    throw StartupError({std::string("cannot open the database: ") + e.what()}, 1);
  }
}

std::vector<MigrationReport> migrate_all(Database& db,
                                         const std::vector<plugin_host::PreparedPlugin>& plugins) {
  std::vector<MigrationReport> report;
  try {
    report.push_back({"core", storage::apply_migrations(db, "core", storage::core_migrations())});
    for (const auto& p : plugins) {
      auto steps = p.loaded.plugin->migrations();
      if (steps.empty()) continue;
      report.push_back(
          {p.loaded.info.name, storage::apply_migrations(db, p.loaded.info.name, steps)});
    }
  } catch (const std::exception& e) {
    throw StartupError({std::string("migration failed: ") + e.what()}, 1);
  }
  return report;
}

namespace {

Route health_route() {
  Route route;
  route.method = "GET";
  route.path = "/healthz";
  route.authenticated = false;
  route.handler = [](const Request&) { return Response::json(200, {{"status", "ok"}}); };
  return route;
}

}  // namespace

std::shared_ptr<pipeline::Snapshot> build_snapshot(std::shared_ptr<const config::Config> config,
                                                   std::vector<plugin_host::PreparedPlugin> plugins,
                                                   const Runtime& runtime,
                                                   std::uint64_t generation) {
  auto snapshot = std::make_shared<pipeline::Snapshot>();
  snapshot->generation = generation;
  snapshot->config = config;
  snapshot->stages = pipeline::standard_stages();
  snapshot->router.add(health_route(), "core");
  for (auto& prepared : plugins) {
    const auto& loaded = prepared.loaded;
    std::string where = "plugin " + loaded.info.name + " (" + loaded.file.string() + ")";
    auto host = std::make_shared<PluginContext>(loaded.info.name, prepared.settings, runtime.db,
                                                runtime.outbox, runtime.credentials, runtime.clock);
    try {
      loaded.plugin->init(*host);
    } catch (const std::exception& e) {
      throw StartupError({where + ": init failed: " + e.what()}, 2);
    }
    snapshot->hosts.push_back(host);
    if (auto* scheme = loaded.plugin->auth()) snapshot->auth_schemes.push_back(scheme);
    if (auto* provider = loaded.plugin->routes()) {
      try {
        for (auto& route : provider->routes())
          snapshot->router.add(std::move(route), loaded.info.name);
      } catch (const std::exception& e) {
        throw StartupError({where + ": " + e.what()}, 2);
      }
    }
    snapshot->plugins.push_back(loaded);
  }
  return snapshot;
}

}  // namespace portico::app
