// Loading one plugin library: cheap file checks, then dlopen (RTLD_LOCAL | RTLD_NOW), then the
// plain-C descriptor, and only then the C++ factory. The plugin object returned owns its library.
#include "core/plugin_host/plugin_loader.hpp"

#include <dlfcn.h>

#include <boost/dll/shared_library.hpp>

#include <array>
#include <cerrno>
#include <fstream>
#include <system_error>
#include <utility>

namespace portico::plugin_host {
namespace {

using Library = std::shared_ptr<boost::dll::shared_library>;

// The one place a plugin object gets its owner (the idea of Boost.DLL tutorial 8): the library
// and the object live in one block, members destroyed in reverse order — the object first, then
// the library — and the shared_ptr handed out aliases the object, so the plugin's code can never
// be unmapped while the object (or anything sharing its ownership) is alive.
struct PluginWithItsLibrary {
  Library library;
  std::unique_ptr<Plugin> plugin;
};

std::shared_ptr<Plugin> owning_its_library(std::unique_ptr<Plugin> plugin, Library library) {
  auto owner = std::make_shared<PluginWithItsLibrary>(
      PluginWithItsLibrary{std::move(library), std::move(plugin)});
  Plugin* object = owner->plugin.get();
  return std::shared_ptr<Plugin>(std::move(owner), object);
}

// Refuses missing and non-ELF files before dlopen sees them: dlopen's own message for a text file
// ("invalid ELF header", "file too short") does not tell an operator what went wrong.
void require_elf_file(const std::filesystem::path& file) {
  std::error_code ignored;
  if (!std::filesystem::exists(file, ignored)) throw PluginLoadError(file, "file not found");
  std::ifstream in(file, std::ios::binary);
  if (!in.is_open()) {
    throw PluginLoadError(file, "cannot open: " + std::generic_category().message(errno));
  }
  std::array<char, 4> magic{};
  if (!in.read(magic.data(), magic.size()) || magic != std::array<char, 4>{'\x7f', 'E', 'L', 'F'}) {
    throw PluginLoadError(file, "not a shared library (no ELF header)");
  }
}

Library open_library(const std::filesystem::path& file) {
  require_elf_file(file);
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code error;
  dlerror();  // drop any stale message so the one read below is about this dlopen
  library->load(file, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now, error);
  if (error) {
    const char* reason = dlerror();
    throw PluginLoadError(file, "cannot load: " + (reason ? std::string(reason) : error.message()));
  }
  return library;
}

std::string text_or(const char* text, const char* fallback) {
  return text ? text : fallback;
}

// Checks the descriptor in the order its layout guarantees: the first three members are stable
// across API versions, so name and version are only read once the major version matched.
PluginDescriptor checked_descriptor(const std::filesystem::path& file,
                                    const boost::dll::shared_library& library) {
  if (!library.has(kDescriptorSymbol)) {
    throw PluginLoadError(file, "no portico_plugin_descriptor symbol (not a Portico plugin?)");
  }
  const auto& abi = library.get<const portico_plugin_abi>(kDescriptorSymbol);
  const std::string theirs = std::to_string(abi.api_major) + "." + std::to_string(abi.api_minor);
  const std::string ours = std::to_string(kPluginApiMajor) + "." + std::to_string(kPluginApiMinor);
  if (abi.api_major != kPluginApiMajor) {
    throw PluginLoadError(
        file, "plugin API " + theirs + ", core speaks " + ours + " (major versions must match)");
  }
  if (abi.api_minor > kPluginApiMinor) {
    throw PluginLoadError(file, "plugin API " + theirs + " is newer than the core's " + ours);
  }
  const std::string signature = text_or(abi.build_signature, "");
  if (signature != kBuildSignature) {
    throw PluginLoadError(file, "build signature mismatch: plugin '" + signature + "', core '" +
                                    kBuildSignature + "'");
  }
  if (!abi.name || !*abi.name || !abi.version || !*abi.version) {
    throw PluginLoadError(file, "descriptor has an empty name or version");
  }
  return {abi.name, abi.version, abi.api_major, abi.api_minor, signature};
}

std::unique_ptr<Plugin> call_factory(const std::filesystem::path& file,
                                     const boost::dll::shared_library& library) {
  if (!library.has(kFactorySymbol)) throw PluginLoadError(file, "no portico_create_plugin symbol");
  PluginFactory& factory = library.get_alias<PluginFactory>(kFactorySymbol);
  std::unique_ptr<Plugin> plugin;
  try {
    plugin = factory();
  } catch (const std::exception& e) {
    throw PluginLoadError(file, std::string("factory failed: ") + e.what());
  } catch (...) {
    throw PluginLoadError(file, "factory failed: unknown exception");
  }
  if (!plugin) throw PluginLoadError(file, "factory failed: it returned no plugin");
  return plugin;
}

}  // namespace

PluginDescriptor read_descriptor(const std::filesystem::path& file) {
  Library library = open_library(file);
  return checked_descriptor(file, *library);
}

LoadedPlugin load_plugin(const std::filesystem::path& file) {
  Library library = open_library(file);
  PluginDescriptor descriptor = checked_descriptor(file, *library);
  std::unique_ptr<Plugin> created = call_factory(file, *library);

  LoadedPlugin loaded;
  loaded.plugin = owning_its_library(std::move(created), std::move(library));
  loaded.file = file;
  loaded.api_version =
      std::to_string(descriptor.api_major) + "." + std::to_string(descriptor.api_minor);
  loaded.loaded_at = std::chrono::system_clock::now();
  try {
    loaded.info = loaded.plugin->info();
  } catch (const std::exception& e) {
    throw PluginLoadError(file, std::string("info() failed: ") + e.what());
  } catch (...) {
    throw PluginLoadError(file, "info() failed: unknown exception");
  }
  if (loaded.info.name != descriptor.name) {
    throw PluginLoadError(file, "info() names the plugin '" + loaded.info.name +
                                    "' but its descriptor says '" + descriptor.name + "'");
  }
  if (loaded.info.version != descriptor.version) {
    throw PluginLoadError(file, "info() gives version '" + loaded.info.version +
                                    "' but its descriptor says '" + descriptor.version + "'");
  }
  return loaded;
}

}  // namespace portico::plugin_host
