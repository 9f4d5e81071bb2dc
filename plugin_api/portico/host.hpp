// What the core offers a plugin: its validated config, the database, the outbox, a logger and the
// clock. Valid from init() until the plugin object is destroyed.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "portico/async.hpp"
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

  // Since API 1.3. Secrets a plugin must keep usable but never store readable (webhook signing
  // secrets and keys): sealed with authenticated encryption under the operator's data key
  // (security.data_key), so a copied database alone reveals nothing. The sealed form is text
  // ("sealed:v1:<key id>:<base64>"). open_secret() also opens values sealed under a previous data
  // key (security.previous_data_keys) and throws std::runtime_error for anything it cannot open.
  virtual std::string seal_secret(std::string_view plaintext) = 0;
  virtual std::string open_secret(std::string_view sealed) = 0;
  // Whether `stored` is sealed under the current data key: false for plain text kept from before
  // and for an older key's seal, which a plugin re-seals (data key rotation).
  virtual bool sealed_with_current_key(std::string_view stored) const = 0;

  // Since API 2.0. The core's worker pool, for blocking work started by an AsyncHandler (or any
  // other callback on an I/O thread): see portico/async.hpp.
  virtual Executor& workers() = 0;
};

}  // namespace portico
