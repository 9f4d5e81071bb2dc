// Building a running gateway out of a config: the store, migrations, plugins initialised with
// their Host, and the immutable pipeline snapshot. Shared by `serve`, `check`, `migrate` (and
// reload, which builds a new snapshot the same way).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/app/plugin_context.hpp"
#include "core/config/config.hpp"
#include "core/observability/observability.hpp"
#include "core/partners/partners_module.hpp"
#include "core/pipeline/client_guard.hpp"
#include "core/pipeline/ratelimit_slot.hpp"
#include "core/pipeline/snapshot.hpp"
#include "core/pipeline/worker_pool.hpp"
#include "core/plugin_host/plugin_set.hpp"
#include "core/usage/usage_recorder.hpp"
#include "portico/database.hpp"

#include <nlohmann/json.hpp>

namespace portico::app {

// A start-up failure with the lines to print. exit_code 2 = bad config or plugin, 1 = runtime.
class StartupError : public std::runtime_error {
 public:
  StartupError(std::vector<std::string> lines, int exit_code);
  const std::vector<std::string>& lines() const { return lines_; }
  int exit_code() const { return exit_code_; }

 private:
  std::vector<std::string> lines_;
  int exit_code_;
};

// Reads and validates the config (ConfigException → StartupError with exit code 2).
config::Config load_config(const std::string& file, const std::vector<std::string>& overrides);

// Loads and validates every enabled plugin (refusals → StartupError with exit code 2).
std::vector<plugin_host::PreparedPlugin> prepare_plugins_or_fail(const config::Config& config);

// Opens the configured store: storage.backend "sqlite" is built in; any other name is an enabled
// plugin providing the `store` kind, whose StoreBackend::open() gets its validated settings table
// (before its init(): the database it opens is what every Host hands out). Throws StartupError.
std::shared_ptr<Database> open_store(const config::Config& config,
                                     const std::vector<plugin_host::PreparedPlugin>& plugins);

struct MigrationReport {
  std::string owner;
  int applied = 0;
};
// Core migrations, then each plugin's, in plugin order.
std::vector<MigrationReport> migrate_all(Database& db,
                                         const std::vector<plugin_host::PreparedPlugin>& plugins);

// What outlives every snapshot (and so every reload): the store, the outbox, partners and keys,
// usage counts, metrics, the access log and the client guard's counters.
struct Runtime {
  std::shared_ptr<Database> db;
  std::shared_ptr<Outbox> outbox;
  partners::PartnersModule partners;  // partners.keys is the plugins' CredentialDirectory
  std::shared_ptr<usage::UsageRecorder> usage;
  // Metrics, access log and anomaly detection; every snapshot's request observer.
  std::shared_ptr<observability::Observability> observability;
  std::shared_ptr<pipeline::ClientGuard> client_guard;
  // The tier limiter every snapshot uses; its counts move from policy to policy on a reload.
  std::shared_ptr<pipeline::RateLimiterSlot> ratelimit =
      std::make_shared<pipeline::RateLimiterSlot>();
  WallClock clock = [] { return std::chrono::system_clock::now(); };
  // The data key(s) plugins seal secrets with (Host::seal_secret); null when none is configured.
  std::shared_ptr<const sdk::SecretBox> secrets;
  // Where blocking handlers and plugins' blocking work run (server.workers threads). `serve`
  // shuts it down — running what is queued — after the listeners drained, before the plugins go.
  std::shared_ptr<pipeline::WorkerPool> workers;

  // Writes batched state (usage counts, keys' last use) to the store; logs and keeps it on error.
  void flush() const;
  // Reloads the key index when partners or keys changed in the database since it was built (by
  // another gateway node on the same database, the CLI, or this process): every 250 ms.
  void refresh_directory() const;
};

// Opens the store (through `plugins` when storage.backend names one), applies the core's
// migrations and sets up the core services; the plugins' migrations run when the first snapshot
// is built (Reloader::start). `tiers` answers the tier names in force (they change with a
// reload). Throws StartupError.
Runtime open_runtime(const config::Config& config,
                     const std::vector<plugin_host::PreparedPlugin>& plugins,
                     partners::PartnerService::TierNames tiers);

// A plugin for a new snapshot. `host` is set when the instance is carried over from the snapshot
// in force: it is already initialised, and keeps its Host.
struct SnapshotPlugin {
  plugin_host::PreparedPlugin prepared;
  std::shared_ptr<Host> host;
};
std::vector<SnapshotPlugin> fresh_plugins(std::vector<plugin_host::PreparedPlugin> prepared);

// portico_webhook_* metrics, read at scrape time from the tables routes_webhooks owns and
// webhook_delivery fills (a shared-table contract, docs/architecture.md): attempts by result,
// pending deliveries and the age of the oldest. All zero while those tables do not exist.
observability::WebhookStats read_webhook_stats(Database& db,
                                               std::chrono::system_clock::time_point now);

// Initialises the plugins not carried over and assembles the partner pipeline (core routes +
// plugin routes). Throws StartupError naming the plugin on an init failure or a route conflict.
// The snapshot's rate limiter is runtime.ratelimit; make it use the snapshot's policy with
// runtime.ratelimit->replace(ratelimit_candidate(*snapshot), ...) before publishing the snapshot.
std::shared_ptr<pipeline::Snapshot> build_snapshot(std::shared_ptr<const config::Config> config,
                                                   std::vector<SnapshotPlugin> plugins,
                                                   const Runtime& runtime,
                                                   std::uint64_t generation);

// The rate-limit policy of the highest-priority plugin providing one (null policy = none).
pipeline::RateLimiterSlot::Candidate ratelimit_candidate(const pipeline::Snapshot& snapshot);

// GET /admin/v1/plugins and `portico plugins`: name, version, kinds, priority, file, api_version
// and, for plugins loaded by a running gateway, loaded_at.
nlohmann::json plugin_json(const plugin_host::LoadedPlugin& plugin, bool with_load_time);

}  // namespace portico::app
