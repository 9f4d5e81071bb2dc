// Loads one plugin library with Boost.DLL: the plain-C descriptor is read and checked before the
// factory is touched, and every object the plugin hands out keeps its library loaded.
#pragma once

#include <chrono>
#include <cstdint>
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

// What tells a rebuilt or replaced file from the one loaded before: a new inode (a file replaced
// by rename or install), or the same inode written over in place (new size or modification time).
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::int64_t modified_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};
// Throws PluginLoadError when the file cannot be examined.
FileIdentity identify(const std::filesystem::path& file);

struct LoadedPlugin {
  std::shared_ptr<Plugin> plugin;  // its deleter holds the library: never outlives its code
  PluginInfo info;
  std::filesystem::path file;
  FileIdentity identity;  // of `file` when it was loaded
  std::string api_version;  // "1.0" as declared by the plugin
  unsigned api_minor = 0;
  std::chrono::system_clock::time_point loaded_at;

  // Whether the core may ask its auth scheme and rate-limit policy for an answer now
  // (authenticate_now, acquire_now): plugin API 3.2 or newer. Older plugins' interfaces have no
  // such virtual functions — calling one would call whatever their vtable holds there.
  bool answers_now() const { return api_minor >= 2; }
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
//
// dlopen hands back the library already loaded under the same path (or the same inode) instead
// of reading the file again, so a plugin rebuilt in place would keep running its old code after a
// reload. When the process already has `file` loaded, it is therefore loaded from a private copy
// (a memfd, so nothing is written to disk), which gives the new code its own mapping and its own
// static state; the copy goes away with the last object of the plugin. read_descriptor() does the
// same, so version selection sees the file as it is now.
LoadedPlugin load_plugin(const std::filesystem::path& file);

}  // namespace portico::plugin_host
