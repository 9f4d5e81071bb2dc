// Live reconfiguration, the doing of it (reload.hpp): reading the config again, choosing which
// plugin instances carry over, building and publishing the new snapshot (migrations, rate-limit
// handover), and keeping the plugins' services in step. The words for what changed are in
// reload_changes.cpp.
#include "core/app/reload.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "core/app/reload_changes.hpp"

namespace portico::app {
namespace {

// True when `next` and `plugins` would build what `current` already is: no live setting differs
// (the start-up-only ones were compared before) and each plugin is the running instance, carried
// over as it was (same file unchanged on disk, same settings), in the same order.
bool same_as_running(const pipeline::Snapshot& current, const config::Config& next,
                     const std::vector<SnapshotPlugin>& plugins) {
  if (!config_changes(*current.config, next).empty()) return false;
  if (plugins.size() != current.plugins.size()) return false;
  for (std::size_t i = 0; i < plugins.size(); ++i) {
    const auto& running = current.plugins[i];
    const auto& wanted = plugins[i];
    if (!wanted.host || wanted.host != running.host ||
        wanted.prepared.loaded.plugin != running.loaded.plugin) {
      return false;
    }
  }
  return true;
}

}  // namespace

nlohmann::json ReloadResult::to_json(const pipeline::Snapshot& snapshot) const {
  nlohmann::json plugins = nlohmann::json::array();
  for (const auto& plugin : snapshot.plugins) plugins.push_back(plugin_json(plugin.loaded, true));
  std::string message =
      "Nothing changed: the gateway keeps running generation " + std::to_string(generation) + ".";
  if (changed) {
    message = "Reloaded: generation " + std::to_string(generation) + " is in force (" +
              std::to_string(changes.size()) + (changes.size() == 1 ? " change)." : " changes).");
  }
  return {{"generation", generation}, {"changed", changed},   {"message", message},
          {"changes", changes},       {"warnings", warnings}, {"plugins", plugins}};
}

Reloader::Reloader(std::string config_file, std::vector<std::string> overrides,
                   pipeline::SnapshotHolder& holder, const Runtime& runtime)
    : config_file_(std::move(config_file)),
      overrides_(std::move(overrides)),
      holder_(holder),
      runtime_(runtime) {}

ReloadResult Reloader::reload() {
  std::lock_guard lock(mutex_);
  try {
    return reload_locked();
  } catch (const StartupError& e) {
    for (const auto& line : e.lines()) spdlog::error("reload refused, nothing changed: {}", line);
    throw;
  } catch (const std::exception& e) {
    spdlog::error("reload refused, nothing changed: {}", e.what());
    throw StartupError({std::string("reload failed: ") + e.what()}, 1);
  }
}

ReloadResult Reloader::reload_locked() {
  auto current = holder_.load();

  config::Config cfg = load_config(config_file_, overrides_);
  if (auto lines = restart_only_changes(*current->config, cfg); !lines.empty()) {
    throw StartupError(std::move(lines), 2);
  }

  // An unchanged file is not opened again: its loaded plugin is used as it is.
  plugin_host::LoadedLookup loaded_before =
      [&current](const std::string& name,
                 const std::filesystem::path& file) -> const plugin_host::LoadedPlugin* {
    const auto* plugin = find_plugin(*current, name);
    if (!plugin || plugin->loaded.file != file) return nullptr;
    try {
      return plugin_host::identify(file) == plugin->loaded.identity ? &plugin->loaded : nullptr;
    } catch (const plugin_host::PluginLoadError&) {
      return nullptr;  // gone: resolving it again reports why
    }
  };
  auto prepared = plugin_host::prepare_plugins(cfg, loaded_before);
  if (!prepared.errors.empty()) throw StartupError(prepared.errors, 2);

  std::vector<SnapshotPlugin> plugins;
  for (auto& p : prepared.plugins) {
    const auto* old = find_plugin(*current, p.loaded.info.name);
    std::shared_ptr<Host> host;
    if (old && old->loaded.plugin == p.loaded.plugin) {
      if (old->settings == p.settings) {
        host = old->host;  // the same instance, as it was
      } else {
        // Same file, new settings: a fresh instance (init() reads settings once).
        try {
          p.loaded = plugin_host::load_plugin(p.loaded.file);
        } catch (const plugin_host::PluginLoadError& e) {
          throw StartupError({e.what()}, 2);
        }
      }
    }
    plugins.push_back({std::move(p), std::move(host)});
  }
  if (same_as_running(*current, cfg, plugins)) {
    ReloadResult result;
    result.generation = current->generation;
    spdlog::info("reload: nothing changed, generation {} stays in force", result.generation);
    return result;
  }
  return install(current, std::move(cfg), std::move(plugins), true);
}

ReloadResult Reloader::start(std::vector<plugin_host::PreparedPlugin> plugins) {
  std::lock_guard lock(mutex_);
  auto empty = holder_.load();
  return install(empty, *empty->config, fresh_plugins(std::move(plugins)), false);
}

ReloadResult Reloader::install(const std::shared_ptr<const pipeline::Snapshot>& current,
                               config::Config cfg, std::vector<SnapshotPlugin> plugins,
                               bool switch_services_now) {
  {
    std::vector<plugin_host::PreparedPlugin> fresh;
    for (const auto& p : plugins) {
      if (!p.host) fresh.push_back(p.prepared);
    }
    for (const auto& step : migrate_all(*runtime_.db, fresh)) {
      if (step.applied > 0) {
        spdlog::info("{}: applied {} migration(s) for {}",
                     current->generation == 0 ? "start" : "reload", step.applied, step.owner);
      }
    }
  }

  auto config = std::make_shared<const config::Config>(std::move(cfg));
  auto next = build_snapshot(config, std::move(plugins), runtime_, current->generation + 1);
  next->on_internal_error = current->on_internal_error;

  ReloadResult result;
  result.generation = next->generation;
  result.changed = true;
  result.changes = config_changes(*current->config, *config);
  for (auto& line : plugin_changes(*current, *next)) result.changes.push_back(std::move(line));

  // The last step that may fail; from here on the new snapshot is the one in force.
  pipeline::RateLimiterSlot::Handover handover;
  try {
    handover = runtime_.ratelimit->replace(ratelimit_candidate(*next), runtime_.clock());
  } catch (const std::exception& e) {
    throw StartupError({std::string("the rate-limit counts could not be handed over: ") + e.what()},
                       2);
  }
  if (!handover.warning.empty()) result.warnings.push_back(handover.warning);
  if (handover.replaced && handover.keys_carried > 0) {
    result.changes.push_back("rate-limit counts of " + std::to_string(handover.keys_carried) +
                             " key(s) handed to the new policy");
  }
  holder_.store(next);
  if (config->logging.level != current->config->logging.level) {
    spdlog::set_level(spdlog::level::from_str(config->logging.level));
  }
  if (switch_services_now) {
    for (auto& warning : switch_services(services_of(*next))) {
      result.warnings.push_back(std::move(warning));
    }
  }

  const char* what = current->generation == 0 ? "start" : "reload";
  if (result.changes.empty()) {
    spdlog::info("{}: generation {}, nothing changed", what, result.generation);
  } else {
    for (const auto& line : result.changes) {
      spdlog::info("{}: generation {}: {}", what, result.generation, line);
    }
  }
  for (const auto& warning : result.warnings) spdlog::warn("{}: {}", what, warning);
  return result;
}

std::vector<Reloader::RunningService> Reloader::services_of(
    const pipeline::Snapshot& snapshot) const {
  std::vector<RunningService> services;
  for (const auto& plugin : snapshot.plugins) {
    if (Service* service = plugin.loaded.plugin->service()) {
      services.push_back({plugin.loaded.plugin, service, plugin.loaded.info.name});
    }
  }
  return services;
}

std::vector<std::string> Reloader::switch_services(std::vector<RunningService> wanted) {
  auto listed = [](const std::vector<RunningService>& list, const Service* service) {
    return std::any_of(list.begin(), list.end(),
                       [service](const RunningService& s) { return s.service == service; });
  };
  std::vector<std::string> warnings;
  // Stopped first, newest first: a replaced service (one webhook sender per database) is gone
  // before its successor starts.
  for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
    if (listed(wanted, it->service)) continue;
    try {
      it->service->stop();
    } catch (const std::exception& e) {
      warnings.push_back("service of " + it->name + " did not stop cleanly: " + e.what());
    }
  }
  std::vector<RunningService> now_running;
  for (auto& service : wanted) {
    if (!listed(running_, service.service)) {
      try {
        service.service->start();
      } catch (const std::exception& e) {
        warnings.push_back("service of " + service.name + " did not start: " + e.what());
        continue;
      }
    }
    now_running.push_back(std::move(service));
  }
  running_ = std::move(now_running);
  return warnings;
}

void Reloader::start_services() {
  std::lock_guard lock(mutex_);
  for (const auto& warning : switch_services(services_of(*holder_.load()))) {
    throw StartupError({warning}, 1);
  }
}

void Reloader::stop_services() {
  std::lock_guard lock(mutex_);
  for (const auto& warning : switch_services({})) spdlog::warn("{}", warning);
}

}  // namespace portico::app
