// Live reconfiguration. A reload reads the whole config again, loads and initialises every plugin
// it needs and builds the complete new snapshot before anything changes; any error leaves the
// gateway exactly as it was and is reported (a StartupError's lines). On success the new snapshot
// is published atomically: requests in flight finish on the snapshot they started with, and a
// plugin library that no snapshot uses any more is unloaded when its last request ends.
//
// What carries over: a plugin whose file is unchanged (same identity) and whose settings are equal
// keeps its instance — no second init(), its service keeps running, caches stay warm. Anything
// else gets a fresh instance (a rebuilt file runs its new code, see plugin_loader.hpp). The tier
// rate limiter's counts move from policy to policy (RateLimiterSlot); partners, keys, usage
// counts, the client guard, metrics and open connections live outside snapshots. Settings read
// once at start-up (listeners, threads, store, log directory, key secret, ops webhook) refuse the
// reload with a line naming each: they need a restart.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/app/reload_changes.hpp"  // restart_only_changes, config_changes
#include "core/app/runtime.hpp"
#include "core/pipeline/snapshot.hpp"

namespace portico::app {

struct ReloadResult {
  std::uint64_t generation = 0;  // the snapshot in force afterwards
  // false: the config and the plugin files are those of the running snapshot, which stays in
  // force under its generation (nothing is built, nothing restarts).
  bool changed = false;
  std::vector<std::string> changes;  // one line per change; a reload that changed names one or more
  std::vector<std::string> warnings;
  // {"generation", "changed", "message", "changes", "warnings", "plugins"}
  nlohmann::json to_json(const pipeline::Snapshot& snapshot) const;
};

class Reloader {
 public:
  // `holder` has a snapshot; `runtime` outlives the Reloader.
  Reloader(std::string config_file, std::vector<std::string> overrides,
           pipeline::SnapshotHolder& holder, const Runtime& runtime);

  // Start-up is the first reload: from the empty snapshot `holder` holds (generation 0, the
  // start-up config, no plugins) to generation 1 with `plugins` (prepared from that config):
  // migrations, init, the pipeline and the rate limiter exactly as a reload does them. Services
  // start later, with start_services(), once the listeners are up. Throws StartupError.
  ReloadResult start(std::vector<plugin_host::PreparedPlugin> plugins);

  // Serialised: a second caller waits for the first. Throws StartupError (nothing changed). A
  // config equal to the running one (every live setting, and every plugin carried over: same
  // file, unchanged on disk, same settings) changes nothing: the generation stays.
  ReloadResult reload();

  // The services of the snapshot in force: started once at start-up, then kept in step by
  // reload() (a removed or replaced plugin's service stops before its successor starts).
  void start_services();
  void stop_services();

 private:
  struct RunningService {
    std::shared_ptr<Plugin> owner;  // keeps the code loaded while the service runs
    Service* service = nullptr;
    std::string name;
  };

  ReloadResult reload_locked();
  // Everything after the plugins are chosen: migrations for fresh instances, the new snapshot,
  // the rate limiter's handover, publication, then (when `switch_services`) the services.
  ReloadResult install(const std::shared_ptr<const pipeline::Snapshot>& current, config::Config cfg,
                       std::vector<SnapshotPlugin> plugins, bool switch_services);
  std::vector<RunningService> services_of(const pipeline::Snapshot& snapshot) const;
  // Starts `wanted` after stopping what is running but not wanted; returns warnings.
  std::vector<std::string> switch_services(std::vector<RunningService> wanted);

  std::string config_file_;
  std::vector<std::string> overrides_;
  pipeline::SnapshotHolder& holder_;
  const Runtime& runtime_;
  std::mutex mutex_;
  std::vector<RunningService> running_;
};

}  // namespace portico::app
