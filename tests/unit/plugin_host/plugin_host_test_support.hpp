// Shared by the plugin host tests: where the built plugins and fixtures are, a minimal Host, and
// a probe for whether a library is still mapped into the process.
#pragma once

#include <dlfcn.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>

#include "portico/host.hpp"
#include "portico/sdk/testing.hpp"

namespace portico::plugin_host::test {

// Built by the portico_test_fixtures target (tests/fixtures/CMakeLists.txt).
inline std::filesystem::path fixture_dir() {
  return std::filesystem::path(PORTICO_BINARY_DIR) / "test-fixtures";
}
inline std::filesystem::path fixture(const std::string& file) {
  return fixture_dir() / file;
}
inline std::filesystem::path built_plugin(const std::string& file) {
  return std::filesystem::path(PORTICO_PLUGIN_DIR) / file;
}

// RTLD_NOLOAD finds an already loaded library without loading it; the handle it returns holds a
// reference, so it is closed again at once.
inline bool library_is_loaded(const std::filesystem::path& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return false;
  dlclose(handle);
  return true;
}

// The SDK's fake host: settings, clock, log and credentials without the core.
using FakeHost = sdk::testing::FakeHost;

}  // namespace portico::plugin_host::test
