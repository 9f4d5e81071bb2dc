#include "core/app/reload.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>

#include "core/config/units.hpp"

namespace portico::app {
namespace {

using config::format_duration;

std::string tier_text(const config::TierConfig& tier) {
  std::string text = std::to_string(tier.limit) + " per " + format_duration(tier.window.count());
  if (tier.burst > 0) text += " (burst " + std::to_string(tier.burst) + ")";
  return text;
}

std::string tls_text(const std::optional<config::TlsConfig>& tls) {
  if (!tls) return "no TLS listener";
  return tls->listen.to_string() + " with " + tls->cert + " and " + tls->key;
}

std::string list_text(const std::vector<std::string>& items) {
  std::string text = "[";
  for (const auto& item : items) text += (text.size() > 1 ? ", " : "") + item;
  return text + "]";
}

// Collects "key: before → after" comparisons of one config against another.
class Differences {
 public:
  explicit Differences(std::string prefix) : prefix_(std::move(prefix)) {}

  template <class T>
  void shown(const std::string& key, const T& before, const T& after, std::string before_text,
             std::string after_text) {
    if (!(before == after)) add(key, before_text, after_text);
  }
  template <class T>
  void hidden(const std::string& key, const T& before, const T& after) {
    if (!(before == after)) lines_.push_back(prefix_ + key + ": " + hidden_text_);
  }
  void set_wording(std::string before, std::string after, std::string end, std::string hidden) {
    before_ = std::move(before);
    how_after_ = std::move(after);
    end_ = std::move(end);
    hidden_text_ = std::move(hidden);
  }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  void add(const std::string& key, const std::string& before, const std::string& after) {
    lines_.push_back(prefix_ + key + ": " + before_ + before + how_after_ + after + end_);
  }

  std::string prefix_;
  std::string before_;
  std::string how_after_ = " → ";
  std::string end_;
  std::string hidden_text_ = "changed";
  std::vector<std::string> lines_;
};

std::string ms(std::chrono::milliseconds value) {
  return format_duration(value.count());
}

}  // namespace

std::vector<std::string> restart_only_changes(const config::Config& running,
                                              const config::Config& next) {
  Differences d(next.file + " ");
  d.set_wording("needs a restart to change (running with ", ", the config says ", ")",
                "needs a restart to change (value not shown)");
  const auto& a = running.server;
  const auto& b = next.server;
  d.shown("server.listen", a.listen, b.listen, a.listen.to_string(), b.listen.to_string());
  d.shown("server.threads", a.threads, b.threads, std::to_string(a.threads),
          std::to_string(b.threads));
  d.shown("server.max_body", a.max_body, b.max_body, config::format_size(a.max_body),
          config::format_size(b.max_body));
  d.shown("server.max_header", a.max_header, b.max_header, config::format_size(a.max_header),
          config::format_size(b.max_header));
  d.shown("server.header_timeout", a.header_timeout, b.header_timeout, ms(a.header_timeout),
          ms(b.header_timeout));
  d.shown("server.idle_timeout", a.idle_timeout, b.idle_timeout, ms(a.idle_timeout),
          ms(b.idle_timeout));
  d.shown("server.shutdown_timeout", a.shutdown_timeout, b.shutdown_timeout, ms(a.shutdown_timeout),
          ms(b.shutdown_timeout));
  d.shown("server.max_json_depth", a.max_json_depth, b.max_json_depth,
          std::to_string(a.max_json_depth), std::to_string(b.max_json_depth));
  d.shown("server.workers", a.workers, b.workers, std::to_string(a.workers),
          std::to_string(b.workers));
  d.shown("server.handler_timeout", a.handler_timeout, b.handler_timeout, ms(a.handler_timeout),
          ms(b.handler_timeout));
  d.shown("server.tls", a.tls, b.tls, tls_text(a.tls), tls_text(b.tls));
  d.shown("admin.listen", running.admin.listen, next.admin.listen, running.admin.listen.to_string(),
          next.admin.listen.to_string());
  d.shown("storage.backend", running.storage.backend, next.storage.backend, running.storage.backend,
          next.storage.backend);
  d.shown("storage.path", running.storage.path, next.storage.path, running.storage.path,
          next.storage.path);
  d.shown("storage.busy_timeout", running.storage.busy_timeout, next.storage.busy_timeout,
          ms(running.storage.busy_timeout), ms(next.storage.busy_timeout));
  d.shown("logging.dir", running.logging.dir, next.logging.dir, running.logging.dir,
          next.logging.dir);
  d.shown("logging.retention_days", running.logging.retention_days, next.logging.retention_days,
          std::to_string(running.logging.retention_days),
          std::to_string(next.logging.retention_days));
  d.hidden("security.key_secret", running.security.key_secret, next.security.key_secret);
  // The data keys are read once at start-up (open_data_keys); plugins carried over keep theirs.
  d.hidden("security.data_key", running.security.data_key, next.security.data_key);
  d.shown("security.data_key_file", running.security.data_key_file, next.security.data_key_file,
          running.security.data_key_file, next.security.data_key_file);
  d.hidden("security.previous_data_keys", running.security.previous_data_keys,
           next.security.previous_data_keys);
  d.shown("monitoring.ops_webhook_url", running.monitoring.ops_webhook_url,
          next.monitoring.ops_webhook_url, running.monitoring.ops_webhook_url,
          next.monitoring.ops_webhook_url);
  d.hidden("monitoring.ops_webhook_secret", running.monitoring.ops_webhook_secret,
           next.monitoring.ops_webhook_secret);
  return d.take();
}

std::vector<std::string> config_changes(const config::Config& running, const config::Config& next) {
  Differences d("");
  std::vector<std::string> lines;
  for (const auto& [name, tier] : next.tiers) {
    auto it = running.tiers.find(name);
    if (it == running.tiers.end()) {
      lines.push_back("tiers." + name + ": added (" + tier_text(tier) + ")");
    } else if (!(it->second == tier)) {
      lines.push_back("tiers." + name + ": " + tier_text(it->second) + " → " + tier_text(tier));
    }
  }
  for (const auto& [name, tier] : running.tiers) {
    if (!next.tiers.contains(name)) lines.push_back("tiers." + name + ": removed");
  }
  const auto& a = running.security;
  const auto& b = next.security;
  d.shown("security.client_ip_limit", a.client_ip_limit, b.client_ip_limit,
          std::to_string(a.client_ip_limit), std::to_string(b.client_ip_limit));
  d.shown("security.client_ip_window", a.client_ip_window, b.client_ip_window,
          ms(a.client_ip_window), ms(b.client_ip_window));
  d.shown("security.auth_failure_limit", a.auth_failure_limit, b.auth_failure_limit,
          std::to_string(a.auth_failure_limit), std::to_string(b.auth_failure_limit));
  d.shown("security.auth_failure_window", a.auth_failure_window, b.auth_failure_window,
          ms(a.auth_failure_window), ms(b.auth_failure_window));
  d.shown("security.lockout", a.lockout, b.lockout, ms(a.lockout), ms(b.lockout));
  d.shown("server.trusted_proxies", running.server.trusted_proxies, next.server.trusted_proxies,
          list_text(running.server.trusted_proxies), list_text(next.server.trusted_proxies));
  d.hidden("admin.token", running.admin.token, next.admin.token);
  d.shown("logging.level", running.logging.level, next.logging.level, running.logging.level,
          next.logging.level);
  d.shown("plugins.dir", running.plugins_dir, next.plugins_dir, running.plugins_dir,
          next.plugins_dir);
  for (auto& line : d.take()) lines.push_back(std::move(line));
  return lines;
}

namespace {

const pipeline::ActivePlugin* find_plugin(const pipeline::Snapshot& snapshot,
                                          const std::string& name) {
  for (const auto& plugin : snapshot.plugins) {
    if (plugin.loaded.info.name == name) return &plugin;
  }
  return nullptr;
}

std::string describe(const plugin_host::LoadedPlugin& loaded) {
  return loaded.info.name + " " + loaded.info.version + " (" + loaded.file.string() + ")";
}

// What happened to the plugins between two snapshots, one line each.
std::vector<std::string> plugin_changes(const pipeline::Snapshot& before,
                                        const pipeline::Snapshot& after) {
  std::vector<std::string> lines;
  for (const auto& plugin : after.plugins) {
    const auto* old = find_plugin(before, plugin.loaded.info.name);
    if (!old) {
      lines.push_back("plugin added: " + describe(plugin.loaded));
      continue;
    }
    if (old->loaded.plugin == plugin.loaded.plugin) continue;  // carried over as it was
    const auto& name = plugin.loaded.info.name;
    if (old->loaded.info.version != plugin.loaded.info.version) {
      lines.push_back("plugin upgraded: " + name + " " + old->loaded.info.version + " → " +
                      plugin.loaded.info.version + " (" + plugin.loaded.file.string() + ")");
    } else if (old->loaded.file != plugin.loaded.file ||
               !(old->loaded.identity == plugin.loaded.identity)) {
      lines.push_back("plugin reloaded from a new file: " + describe(plugin.loaded));
    } else {
      lines.push_back("plugin settings changed: " + name + " (new instance)");
    }
  }
  for (const auto& plugin : before.plugins) {
    if (!find_plugin(after, plugin.loaded.info.name)) {
      lines.push_back("plugin removed: " + describe(plugin.loaded));
    }
  }
  return lines;
}

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
