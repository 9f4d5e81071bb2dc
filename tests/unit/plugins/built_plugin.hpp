// A plugin library from build/plugins opened the way the host opens it (RTLD_NOW | RTLD_LOCAL),
// for tests that check what the built .so exports. The library stays open for the object's life:
// plugin objects it created must be destroyed first.
#pragma once

#include <dlfcn.h>

#include <cstdint>
#include <memory>
#include <string>

#include "portico/plugin.hpp"

namespace portico::test {

class BuiltPlugin {
 public:
  explicit BuiltPlugin(const std::string& file)
      : handle_(
            dlopen((std::string(PORTICO_PLUGIN_DIR) + "/" + file).c_str(), RTLD_NOW | RTLD_LOCAL)),
        error_(handle_ ? "" : dlerror()) {}
  ~BuiltPlugin() {
    if (handle_) dlclose(handle_);
  }
  BuiltPlugin(const BuiltPlugin&) = delete;
  BuiltPlugin& operator=(const BuiltPlugin&) = delete;

  bool loaded() const { return handle_ != nullptr; }
  const std::string& error() const { return error_; }
  // Null when the library exports no descriptor.
  const portico_plugin_abi* descriptor() const {
    return handle_ ? static_cast<const portico_plugin_abi*>(dlsym(handle_, kDescriptorSymbol))
                   : nullptr;
  }
  // The exported symbol is a pointer holding the factory's address (a Boost.DLL alias).
  std::unique_ptr<Plugin> create() const {
    auto* slot =
        handle_ ? static_cast<const void* const*>(dlsym(handle_, kFactorySymbol)) : nullptr;
    if (!slot) return nullptr;
    auto* factory = reinterpret_cast<PluginFactory*>(reinterpret_cast<std::intptr_t>(*slot));
    return factory();
  }

 private:
  void* handle_;
  std::string error_;
};

}  // namespace portico::test
