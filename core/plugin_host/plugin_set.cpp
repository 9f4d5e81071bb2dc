// From [plugins.*] tables to loaded plugins: find each plugin's file (honouring its version pin),
// load it, validate its settings against its schema, and collect every refusal as one line.
#include "core/plugin_host/plugin_set.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "core/plugin_host/semver.hpp"

namespace portico::plugin_host {
namespace {

namespace fs = std::filesystem;

// Where a refusal that concerns no single file points: the config table, in the
// `file:line key` form config errors use ("portico.toml:12 plugins.hello").
std::string table_location(const config::PluginEntry& entry) {
  std::string where = entry.file;
  if (!where.empty() && entry.line > 0) where += ":" + std::to_string(entry.line);
  if (!where.empty()) where += " ";
  return where + "plugins." + entry.name;
}

PluginLoadError table_error(const config::PluginEntry& entry, const std::string& reason) {
  return PluginLoadError(fs::path(table_location(entry)), reason);
}

bool any_version(const std::string& range) {
  return range.empty() || range == "*";
}

void require_valid_range(const config::PluginEntry& entry) {
  try {
    satisfies(SemVer{}, entry.version_range);
  } catch (const std::invalid_argument& e) {
    throw table_error(entry, e.what());
  }
}

struct Candidate {
  fs::path file;
  SemVer version;
};

// The descriptor of `file`, from the plugin already loaded from it when it is unchanged.
PluginDescriptor describe(const fs::path& file, const std::string& name,
                          const LoadedLookup& loaded) {
  if (loaded) {
    if (const LoadedPlugin* plugin = loaded(name, file)) {
      return {plugin->info.name, plugin->info.version, kPluginApiMajor, plugin->api_minor,
              kBuildSignature};
    }
  }
  return read_descriptor(file);
}

// Reads a candidate's descriptor; a file that cannot be read, or that is another plugin, becomes
// a refusal line instead.
std::optional<Candidate> read_candidate(const fs::path& file, const config::PluginEntry& entry,
                                        const LoadedLookup& loaded,
                                        std::vector<PluginLoadError>& refused) {
  try {
    PluginDescriptor descriptor = describe(file, entry.name, loaded);
    if (descriptor.name != entry.name) {
      throw PluginLoadError(
          file, "descriptor names the plugin '" + descriptor.name + "', not '" + entry.name + "'");
    }
    auto version = SemVer::parse(descriptor.version);
    if (!version) {
      throw PluginLoadError(file, "descriptor version '" + descriptor.version + "' is not semver");
    }
    return Candidate{file, *version};
  } catch (const PluginLoadError& e) {
    refused.push_back(e);
    return std::nullopt;
  }
}

// `<dir>/<name>.so` first, then `<dir>/<name>-<semver>.so` in name order.
std::vector<fs::path> candidate_files(const fs::path& dir, const std::string& name) {
  std::vector<fs::path> files;
  std::error_code error;
  if (fs::exists(dir / (name + ".so"), error)) files.push_back(dir / (name + ".so"));
  std::vector<fs::path> versioned;
  const std::string prefix = name + "-";
  for (const auto& item : fs::directory_iterator(dir, error)) {
    const std::string filename = item.path().filename().string();
    if (!filename.starts_with(prefix) || !filename.ends_with(".so")) continue;
    auto middle = std::string_view(filename).substr(prefix.size());
    middle.remove_suffix(3);
    if (SemVer::parse(middle)) versioned.push_back(item.path());
  }
  std::sort(versioned.begin(), versioned.end());
  files.insert(files.end(), versioned.begin(), versioned.end());
  return files;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

fs::path resolve_explicit_path(const config::PluginEntry& entry, const LoadedLookup& loaded) {
  fs::path file = entry.path;
  if (any_version(entry.version_range)) return file;
  PluginDescriptor descriptor = describe(file, entry.name, loaded);
  auto version = SemVer::parse(descriptor.version);
  if (!version || !satisfies(*version, entry.version_range)) {
    throw PluginLoadError(
        file, "version " + descriptor.version + " does not satisfy '" + entry.version_range + "'");
  }
  return file;
}

}  // namespace

fs::path resolve_plugin_file(const std::string& dir, const config::PluginEntry& entry,
                             const LoadedLookup& loaded) {
  require_valid_range(entry);
  if (!entry.path.empty()) return resolve_explicit_path(entry, loaded);

  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    throw table_error(entry, "plugin directory '" + dir + "' does not exist");
  }
  std::vector<Candidate> found;
  std::vector<PluginLoadError> refused;
  for (const fs::path& file : candidate_files(dir, entry.name)) {
    if (auto candidate = read_candidate(file, entry, loaded, refused)) {
      found.push_back(*candidate);
    }
  }

  const Candidate* best = nullptr;
  for (const Candidate& candidate : found) {
    if (!satisfies(candidate.version, entry.version_range)) continue;
    if (!best || best->version < candidate.version) best = &candidate;
  }
  if (best) return best->file;

  if (found.empty() && refused.empty()) {
    throw table_error(entry, "no plugin file '" + entry.name + ".so' or '" + entry.name +
                                 "-<version>.so' in " + dir);
  }
  // A single refused file is the whole story: report it as load_plugin would.
  if (found.empty() && refused.size() == 1) throw refused.front();
  std::vector<std::string> refusals;
  for (const PluginLoadError& e : refused) refusals.emplace_back(e.what());
  if (found.empty()) {
    throw table_error(entry, "no loadable file for '" + entry.name + "' in " + dir + " (" +
                                 join(refusals, "; ") + ")");
  }
  std::sort(found.begin(), found.end(),
            [](const Candidate& a, const Candidate& b) { return a.version < b.version; });
  std::vector<std::string> versions;
  for (const Candidate& candidate : found) versions.push_back(candidate.version.to_string());
  std::string detail = "found " + join(versions, ", ");
  if (!refusals.empty()) detail += "; refused " + join(refusals, "; ");
  throw table_error(entry, "no version of '" + entry.name + "' in " + dir + " satisfies '" +
                               entry.version_range + "' (" + detail + ")");
}

PluginSetResult prepare_plugins(const config::Config& config, const LoadedLookup& loaded_before) {
  PluginSetResult result;
  for (const config::PluginEntry& entry : config.plugins) {
    if (!entry.enabled) continue;
    try {
      fs::path file = resolve_plugin_file(config.plugins_dir, entry, loaded_before);
      const LoadedPlugin* before = loaded_before ? loaded_before(entry.name, file) : nullptr;
      LoadedPlugin loaded = before ? *before : load_plugin(file);
      if (loaded.info.name != entry.name) {
        throw PluginLoadError(
            file, "the plugin is named '" + loaded.info.name + "', not '" + entry.name + "'");
      }
      nlohmann::json settings = config::validate_plugin_config(entry, loaded.info.schema);
      result.plugins.push_back(PreparedPlugin{std::move(loaded), entry, std::move(settings)});
    } catch (const PluginLoadError& e) {
      result.errors.emplace_back(e.what());
    } catch (const config::ConfigException& e) {
      for (const config::ConfigError& error : e.errors())
        result.errors.push_back(error.to_string());
    } catch (const std::exception& e) {
      result.errors.push_back(table_location(entry) + ": " + e.what());
    }
  }
  std::sort(result.plugins.begin(), result.plugins.end(),
            [](const PreparedPlugin& a, const PreparedPlugin& b) {
              if (a.loaded.info.priority != b.loaded.info.priority) {
                return a.loaded.info.priority > b.loaded.info.priority;
              }
              return a.loaded.info.name < b.loaded.info.name;
            });
  return result;
}

}  // namespace portico::plugin_host
