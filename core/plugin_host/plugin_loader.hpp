// Loads one plugin library with Boost.DLL: the plain-C descriptor is read and checked before the
// factory is touched, and every object the plugin hands out keeps its library loaded.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "portico/plugin.hpp"

namespace portico::plugin_host {

// One line naming the file and the reason: "<file>: <reason>".
class PluginLoadError : public std::runtime_error {
 public:
  PluginLoadError(const std::filesystem::path& file, const std::string& reason)
      : std::runtime_error(file.string() + ": " + reason), reason_(reason) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

struct LoadedPlugin {
  std::shared_ptr<Plugin> plugin;  // its deleter holds the library: never outlives its code
  PluginInfo info;
  std::filesystem::path file;
  std::string api_version;  // "1.0" as declared by the plugin
  std::chrono::system_clock::time_point loaded_at;
};

// Reads the descriptor of `file` without creating the plugin (name, version, API version).
struct PluginDescriptor {
  std::string name;
  std::string version;
  unsigned api_major = 0;
  unsigned api_minor = 0;
  std::string build_signature;
};
PluginDescriptor read_descriptor(const std::filesystem::path& file);

// Loads, checks (API major equal, minor not newer, build signature equal) and instantiates.
// Throws PluginLoadError.
LoadedPlugin load_plugin(const std::filesystem::path& file);

}  // namespace portico::plugin_host
