// Turns the [plugins.*] tables of a config into loaded plugins with validated settings, ordered by
// priority. Each refusal is one line naming the file and the reason; nothing crashes.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/plugin_host/plugin_loader.hpp"

namespace portico::plugin_host {

struct PreparedPlugin {
  LoadedPlugin loaded;
  config::PluginEntry entry;
  nlohmann::json settings;  // validated against the plugin's schema, defaults filled
};

struct PluginSetResult {
  std::vector<PreparedPlugin> plugins;  // enabled and valid, highest priority first
  std::vector<std::string> errors;      // one line per refused plugin
};

// On a reload: the plugin already loaded from `file` under `name` if the file has not changed
// since (same identity), else null. Such a file is neither opened nor loaded again.
using LoadedLookup =
    std::function<const LoadedPlugin*(const std::string& name, const std::filesystem::path& file)>;

// Finds the file for an entry: `path` if set, else `<dir>/<name>.so` or the newest
// `<dir>/<name>-<semver>.so` satisfying entry.version_range. Throws PluginLoadError.
std::filesystem::path resolve_plugin_file(const std::string& dir, const config::PluginEntry& entry,
                                          const LoadedLookup& loaded = {});

PluginSetResult prepare_plugins(const config::Config& config, const LoadedLookup& loaded = {});

}  // namespace portico::plugin_host
