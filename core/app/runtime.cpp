#include "core/app/runtime.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>

#include "core/app/data_keys.hpp"
#include "core/partners/migrations.hpp"
#include "core/storage/outbox.hpp"
#include "core/usage/usage_routes.hpp"
#include "core/util/time.hpp"

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

std::shared_ptr<Database> open_store(const config::Config& config,
                                     const std::vector<plugin_host::PreparedPlugin>& plugins) {
  const std::string& backend = config.storage.backend;
  if (backend == "sqlite") {
    try {
      storage::SqliteOptions options;
      options.path = config.storage.path;
      options.busy_timeout = config.storage.busy_timeout;
      return storage::open_sqlite(options);
    } catch (const std::exception& e) {
      throw StartupError({std::string("cannot open the database: ") + e.what()}, 1);
    }
  }
  // A store plugin by its name, or by its backend's: "postgres" is the plugin store_postgres.
  const auto plugin = std::find_if(plugins.begin(), plugins.end(), [&](const auto& p) {
    return p.loaded.info.name == backend || p.loaded.info.name == "store_" + backend;
  });
  if (plugin == plugins.end()) {
    throw StartupError({config.file + " storage.backend: '" + backend +
                        "' is neither the built-in 'sqlite' nor an enabled store plugin (add a "
                        "[plugins.store_" + backend + "] table, or [plugins." + backend +
                        "] for a plugin of that name)"},
                       2);
  }
  StoreBackend* store = plugin->loaded.plugin->store();
  if (!store) {
    throw StartupError({config.file + " storage.backend: plugin '" + backend + "' (" +
                        plugin->loaded.file.string() + ") provides no store"},
                       2);
  }
  std::shared_ptr<Database> db;
  try {
    nlohmann::json settings = plugin->settings;
    if (!config.storage.url.empty()) settings["url"] = config.storage.url;
    db = store->open(settings);
  } catch (const std::exception& e) {
    throw StartupError({"cannot open the database with store plugin '" + backend + "' (" +
                        plugin->loaded.file.string() + "): " + e.what()},
                       1);
  }
  if (!db) {
    throw StartupError({"store plugin '" + backend + "' (" + plugin->loaded.file.string() +
                        ") opened no database"},
                       1);
  }
  // Keeps the plugin — and so its library, the backend's code — until the database is gone.
  Database* raw = db.get();
  return std::shared_ptr<Database>(raw, [db = std::move(db), owner = plugin->loaded.plugin](
                                            Database*) mutable {
    db.reset();  // the database first, then (perhaps) the library with its code
    owner.reset();
  });
}

std::vector<MigrationReport> migrate_all(Database& db,
                                         const std::vector<plugin_host::PreparedPlugin>& plugins) {
  std::vector<MigrationReport> report;
  try {
    report.push_back({"core", storage::apply_migrations(db, "core", storage::core_migrations())});
    report.push_back(
        {partners::kMigrationOwner, storage::apply_migrations(db, partners::kMigrationOwner,
                                                              partners::partners_migrations())});
    report.push_back(
        {usage::kUsageMigrationOwner,
         storage::apply_migrations(db, usage::kUsageMigrationOwner, usage::usage_migrations())});
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

std::shared_ptr<observability::Observability> open_observability(const config::Config& config) {
  observability::ObservabilityOptions options;
  options.log_dir = config.logging.dir;
  options.retention_days = config.logging.retention_days;
  options.ops_webhook_url = config.monitoring.ops_webhook_url;
  options.ops_webhook_secret = config.monitoring.ops_webhook_secret;
  options.warn = [](const std::string& warning) { spdlog::warn("{}", warning); };
  try {
    return std::make_shared<observability::Observability>(std::move(options));
  } catch (const std::invalid_argument& e) {
    throw StartupError({config.file + " monitoring.ops_webhook_url: " + e.what()}, 2);
  } catch (const std::exception& e) {
    throw StartupError({config.file + " logging.dir: " + e.what()}, 1);
  }
}

}  // namespace

Runtime open_runtime(const config::Config& config,
                     const std::vector<plugin_host::PreparedPlugin>& plugins,
                     partners::PartnerService::TierNames tiers) {
  Runtime runtime;
  runtime.workers = std::make_shared<pipeline::WorkerPool>(
      config.server.workers > 0 ? static_cast<std::size_t>(config.server.workers)
                                : pipeline::WorkerPool::default_size(),
      [](std::string_view problem) { spdlog::error("{}", problem); });
  runtime.db = open_store(config, plugins);
  // After the store: the default key file sits in its directory.
  runtime.secrets = open_data_keys(config);
  // The core's own tables; the plugins' are migrated when the first snapshot is built.
  for (const auto& step : migrate_all(*runtime.db, {})) {
    if (step.applied > 0) spdlog::info("applied {} migration(s) for {}", step.applied, step.owner);
  }
  runtime.outbox = std::make_shared<storage::SqlOutbox>(runtime.db, runtime.clock);
  try {
    runtime.partners = partners::open_partners(runtime.db, config, std::move(tiers), runtime.clock);
  } catch (const partners::KeySecretError& e) {
    throw StartupError({config.file + " security.key_secret: " + e.what()}, 2);
  } catch (const std::exception& e) {
    throw StartupError({std::string("cannot load partners and keys: ") + e.what()}, 1);
  }
  runtime.usage = std::make_shared<usage::UsageRecorder>(runtime.db, runtime.clock);
  runtime.observability = open_observability(config);
  runtime.observability->set_webhook_stats(
      [db = runtime.db, clock = runtime.clock] { return read_webhook_stats(*db, clock()); });
  // A lockout is also the auth-failure-burst detector's signal.
  runtime.client_guard = std::make_shared<pipeline::ClientGuard>(
      std::chrono::steady_clock::now,
      [observability = runtime.observability](const pipeline::Lockout& lockout) {
        spdlog::warn("{}", lockout.message);
        observability->on_lockout(lockout);
      });
  return runtime;
}

observability::WebhookStats read_webhook_stats(Database& db,
                                               std::chrono::system_clock::time_point now) {
  observability::WebhookStats stats;
  try {
    // The pending rows through the (state, next_attempt_at) index; attempts with an error are
    // the failures (error is NULL exactly on a 2xx).
    Rows pending = db.query(
        "SELECT count(*), min(created_at) FROM webhook_deliveries WHERE state = 'pending'");
    stats.queue_depth = static_cast<std::uint64_t>(pending.at(0).integer(0));
    if (auto oldest = pending.at(0).optional_text(1)) {
      if (auto at = util::parse_rfc3339(*oldest); at && *at < now) {
        stats.oldest_pending_seconds = std::chrono::duration<double>(now - *at).count();
      }
    }
    Rows attempts = db.query("SELECT count(*) - count(error), count(error) FROM webhook_attempts");
    stats.succeeded = static_cast<std::uint64_t>(attempts.at(0).integer(0));
    stats.failed = static_cast<std::uint64_t>(attempts.at(0).integer(1));
  } catch (const DatabaseError&) {
    return {};  // no webhook tables: routes_webhooks has never been enabled on this database
  }
  return stats;
}

void Runtime::refresh_directory() const {
  try {
    if (partners.keys && partners.keys->refresh_if_changed()) {
      spdlog::debug("key index reloaded: partners or keys changed in the database");
    }
  } catch (const std::exception& e) {
    spdlog::warn("key index not refreshed (next try in 250 ms): {}", e.what());
  }
}

void Runtime::flush() const {
  try {
    if (usage) usage->flush();
  } catch (const std::exception& e) {
    spdlog::error("usage counts not saved (kept for the next try): {}", e.what());
  }
  try {
    if (partners.keys) partners.keys->flush_last_used();
  } catch (const std::exception& e) {
    spdlog::error("keys' last use not saved (kept for the next try): {}", e.what());
  }
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

std::vector<SnapshotPlugin> fresh_plugins(std::vector<plugin_host::PreparedPlugin> prepared) {
  std::vector<SnapshotPlugin> plugins;
  plugins.reserve(prepared.size());
  for (auto& p : prepared) plugins.push_back({std::move(p), nullptr});
  return plugins;
}

std::shared_ptr<pipeline::Snapshot> build_snapshot(std::shared_ptr<const config::Config> config,
                                                   std::vector<SnapshotPlugin> plugins,
                                                   const Runtime& runtime,
                                                   std::uint64_t generation) {
  auto snapshot = std::make_shared<pipeline::Snapshot>();
  snapshot->generation = generation;
  snapshot->config = config;
  try {
    snapshot->stages = pipeline::standard_stages(*config);
  } catch (const std::invalid_argument& e) {
    throw StartupError({config->file + " server.trusted_proxies: " + e.what()}, 2);
  }
  snapshot->client_guard = runtime.client_guard;
  snapshot->usage = runtime.usage;
  snapshot->observer = runtime.observability;
  snapshot->clock = runtime.clock;
  snapshot->workers = runtime.workers.get();
  snapshot->on_warning = [](std::string_view warning) { spdlog::warn("{}", warning); };
  snapshot->router.add(health_route(), "core");
  if (runtime.usage) snapshot->router.add(usage::usage_route(runtime.usage), "core");
  for (auto& [prepared, carried_host] : plugins) {
    const auto& loaded = prepared.loaded;
    std::string where = "plugin " + loaded.info.name + " (" + loaded.file.string() + ")";
    std::shared_ptr<Host> host = carried_host;
    if (!host) {
      auto context = std::make_shared<PluginContext>(
          loaded.info.name, prepared.settings, runtime.db, runtime.outbox, runtime.partners.keys,
          runtime.clock, runtime.secrets, runtime.workers);
      context->set_owner(loaded.plugin);
      host = context;
      try {
        loaded.plugin->init(*host);
      } catch (const std::exception& e) {
        throw StartupError({where + ": init failed: " + e.what()}, 2);
      }
    }
    if (auto* scheme = loaded.plugin->auth()) {
      snapshot->auth_schemes.push_back({scheme, loaded.answers_now()});
    }
    // Plugins come highest priority first: the first rate-limit policy is the one in force.
    if (loaded.plugin->ratelimit() && !snapshot->ratelimit && runtime.ratelimit) {
      snapshot->ratelimit = runtime.ratelimit.get();
      snapshot->ratelimit_owner = runtime.ratelimit;
    }
    if (auto* provider = loaded.plugin->routes()) {
      try {
        for (auto& route : provider->routes()) {
          auto& router = route.admin ? snapshot->admin_router : snapshot->router;
          router.add(std::move(route), loaded.info.name);
        }
      } catch (const std::exception& e) {
        throw StartupError({where + ": " + e.what()}, 2);
      }
    }
    snapshot->plugins.push_back({std::move(host), loaded, std::move(prepared.settings)});
  }
  return snapshot;
}

pipeline::RateLimiterSlot::Candidate ratelimit_candidate(const pipeline::Snapshot& snapshot) {
  for (const auto& plugin : snapshot.plugins) {
    if (RateLimitPolicy* policy = plugin.loaded.plugin->ratelimit()) {
      // Aliases the plugin object, which owns its library: the policy's code stays loaded.
      // Every plugin of API 2.x hands its counts over (export_usage/import_usage).
      return {std::shared_ptr<RateLimitPolicy>(plugin.loaded.plugin, policy), true,
              plugin.loaded.answers_now()};
    }
  }
  return {};
}

nlohmann::json plugin_json(const plugin_host::LoadedPlugin& plugin, bool with_load_time) {
  nlohmann::json kinds = nlohmann::json::array();
  for (auto kind : plugin.info.kinds) kinds.push_back(to_string(kind));
  nlohmann::json out{{"name", plugin.info.name},
                     {"version", plugin.info.version},
                     {"kinds", kinds},
                     {"priority", plugin.info.priority},
                     {"file", plugin.file.string()},
                     {"api_version", plugin.api_version}};
  if (with_load_time) out["loaded_at"] = util::format_rfc3339(plugin.loaded_at);
  return out;
}

}  // namespace portico::app
