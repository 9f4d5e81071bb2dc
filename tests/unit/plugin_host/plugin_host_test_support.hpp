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

class NoDatabase final : public Database {
 public:
  Rows query(std::string_view, const Params&) override { throw unavailable(); }
  std::int64_t execute(std::string_view, const Params&) override { throw unavailable(); }
  void execute_script(std::string_view) override { throw unavailable(); }
  void transaction(const std::function<void(Session&)>&) override { throw unavailable(); }
  std::string backend_name() const override { return "none"; }

 private:
  static DatabaseError unavailable() { return DatabaseError("no database in this test"); }
};

class NoOutbox final : public Outbox {
 public:
  std::string append(Session&, const Event&) override {
    throw std::logic_error("no outbox in this test");
  }
};

class SilentLog final : public Log {
 public:
  void write(LogLevel, std::string_view) override {}
};

// Just enough Host for init(): a plugin name and its (already validated) config.
class FakeHost final : public Host {
 public:
  FakeHost(std::string name, nlohmann::json config)
      : name_(std::move(name)), config_(std::move(config)) {}
  const std::string& plugin_name() const override { return name_; }
  const nlohmann::json& config() const override { return config_; }
  Database& database() override { return database_; }
  Outbox& outbox() override { return outbox_; }
  Log& log() override { return log_; }
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point{};
  }

 private:
  std::string name_;
  nlohmann::json config_;
  NoDatabase database_;
  NoOutbox outbox_;
  SilentLog log_;
};

}  // namespace portico::plugin_host::test
