// Loading one plugin library: cheap file checks, then dlopen (RTLD_LOCAL | RTLD_NOW), then the
// plain-C descriptor, and only then the C++ factory. The plugin object returned owns its library.
#include "core/plugin_host/plugin_loader.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

// A library and, for a private copy, the memfd it was mapped from. Members go in reverse order:
// the library is unloaded first, then the descriptor closed — its /proc/self/fd path is the
// library's name for glibc, so it must not be reused by another copy while the library is loaded.
struct LibraryWithItsCopy {
  struct Descriptor {
    int fd = -1;
    ~Descriptor() {
      if (fd >= 0) ::close(fd);
    }
  } copy;
  boost::dll::shared_library library;
};

// True when the process has a library loaded under this path (or from this very inode), in which
// case dlopen would return it instead of reading the file.
bool already_loaded(const std::filesystem::path& file) {
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (!handle) {
    dlerror();  // NOLOAD's miss leaves a message behind; the next dlopen must not report it
    return false;
  }
  ::dlclose(handle);
  return true;
}

// Copies `file` into an anonymous memory file; returns its descriptor.
int private_copy(const std::filesystem::path& file) {
  const std::string name = "portico:" + file.filename().string();
  int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) {
    throw PluginLoadError(file, "cannot make a private copy to load it again: " +
                                    std::generic_category().message(errno));
  }
  std::ifstream in(file, std::ios::binary);
  std::array<char, 1 << 16> buffer{};
  while (in) {
    in.read(buffer.data(), buffer.size());
    std::streamsize left = in.gcount();
    const char* at = buffer.data();
    while (left > 0) {
      ssize_t written = ::write(fd, at, static_cast<std::size_t>(left));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        const int error = errno;
        ::close(fd);
        throw PluginLoadError(file, "cannot make a private copy to load it again: " +
                                        std::generic_category().message(error));
      }
      at += written;
      left -= written;
    }
  }
  if (in.bad()) {
    ::close(fd);
    throw PluginLoadError(file, "cannot read it: " + std::generic_category().message(errno));
  }
  return fd;
}

Library open_library(const std::filesystem::path& file) {
  require_elf_file(file);
  auto owner = std::make_shared<LibraryWithItsCopy>();
  std::filesystem::path target = file;
  if (already_loaded(file)) {
    owner->copy.fd = private_copy(file);
    target = "/proc/self/fd/" + std::to_string(owner->copy.fd);
  }
  boost::dll::fs::error_code error;
  dlerror();  // drop any stale message so the one read below is about this dlopen
  owner->library.load(target, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now,
                      error);
  if (error) {
    const char* reason = dlerror();
    throw PluginLoadError(file, "cannot load: " + (reason ? std::string(reason) : error.message()));
  }
  boost::dll::shared_library* library = &owner->library;
  return Library(std::move(owner), library);
}

std::string text_or(const char* text, const char* fallback) {
  return text ? text : fallback;
}

// What each major version asks of a plugin built for the one before (docs/plugins.md, "Moving to
// API N.0"), for the refusal of an older plugin.
constexpr std::pair<unsigned, const char*> kMajorChanges[] = {
    {2, "route handlers run on the worker pool unless Route::run_on says io_thread; a Host must "
        "offer workers()"},
    {3, "a Reply takes an Answer, which a Response or a SharedResponse converts to; "
        "AuthResult::problem is a shared pointer"},
};

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
  if (abi.api_major >= 1 && abi.api_major < kPluginApiMajor) {
    // An older major: say what the author has to change, for every major since theirs.
    std::string changes, sections;
    for (const auto& [major, change] : kMajorChanges) {
      if (major <= abi.api_major) continue;
      changes += (changes.empty() ? "" : "; ") + std::to_string(major) + ".0: " + change;
      sections += std::string(sections.empty() ? "" : " and ") + "\"Moving to API " +
                  std::to_string(major) + ".0\"";
    }
    throw PluginLoadError(file, "plugin '" + text_or(abi.name, "?") +
                                    "' is built for plugin API " + theirs + "; this core speaks " +
                                    ours + ": rebuild it against the " + ours + " SDK (" + changes +
                                    ") — see docs/plugins.md, " + sections);
  }
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

FileIdentity identify(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    throw PluginLoadError(file, "cannot examine: " + std::generic_category().message(errno));
  }
  return {static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino),
          static_cast<std::uint64_t>(info.st_size),
          static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec};
}

PluginDescriptor read_descriptor(const std::filesystem::path& file) {
  Library library = open_library(file);
  return checked_descriptor(file, *library);
}

LoadedPlugin load_plugin(const std::filesystem::path& file) {
  require_elf_file(file);
  // Taken before the file is read: a file replaced while it loads looks changed next time.
  const FileIdentity identity = identify(file);
  Library library = open_library(file);
  PluginDescriptor descriptor = checked_descriptor(file, *library);
  std::unique_ptr<Plugin> created = call_factory(file, *library);

  LoadedPlugin loaded;
  loaded.plugin = owning_its_library(std::move(created), std::move(library));
  loaded.file = file;
  loaded.identity = identity;
  loaded.api_minor = descriptor.api_minor;
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
