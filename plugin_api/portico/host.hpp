// What the core offers a plugin: its validated config, the database, the outbox, a logger and the
// clock. Valid from init() until the plugin object is destroyed.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "portico/credentials.hpp"
#include "portico/database.hpp"
#include "portico/event.hpp"

namespace portico {

enum class LogLevel { debug, info, warn, error };

class Log {
 public:
  virtual ~Log() = default;
  virtual void write(LogLevel level, std::string_view message) = 0;
  void debug(std::string_view m) { write(LogLevel::debug, m); }
  void info(std::string_view m) { write(LogLevel::info, m); }
  void warn(std::string_view m) { write(LogLevel::warn, m); }
  void error(std::string_view m) { write(LogLevel::error, m); }
};

class Host {
 public:
  virtual ~Host() = default;
  virtual const std::string& plugin_name() const = 0;
  // The plugin's table after schema validation, defaults filled (durations in ms, sizes in bytes).
  virtual const nlohmann::json& config() const = 0;
  virtual Database& database() = 0;
  virtual Outbox& outbox() = 0;
  virtual Log& log() = 0;
  // Partners' credentials, for auth plugins.
  virtual CredentialDirectory& credentials() = 0;
  // Wall clock; tests inject a fake one.
  virtual std::chrono::system_clock::time_point now() const = 0;
};

}  // namespace portico
