// The gateway's configuration: typed sections read from TOML, validated against schemas, with
// ${ENV} substitution and --set overrides. Every error is reported as `file:line key: problem`.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "portico/config_schema.hpp"

namespace portico::config {

struct ConfigError {
  std::string file;  // config file path as given, or "--set" for overrides
  int line = 0;      // 0 when unknown
  std::string key;   // dotted path, e.g. "server.max_body"; empty for syntax errors
  std::string message;
  // "file:line key: message" ("file key: message" without a line; "file:line: message" without a
  // key)
  std::string to_string() const;
};

class ConfigException : public std::runtime_error {
 public:
  explicit ConfigException(std::vector<ConfigError> errors);
  const std::vector<ConfigError>& errors() const { return errors_; }

 private:
  std::vector<ConfigError> errors_;
};

struct ListenAddress {
  std::string host;  // "0.0.0.0", "127.0.0.1", "::1"
  std::uint16_t port = 0;
  std::string to_string() const;  // "127.0.0.1:8080", "[::1]:8080"
  bool operator==(const ListenAddress&) const = default;
};

struct TlsConfig {
  ListenAddress listen;  // default 0.0.0.0:8443
  std::string cert;      // PEM file
  std::string key;       // PEM file
  bool operator==(const TlsConfig&) const = default;
};

struct ServerConfig {
  ListenAddress listen;  // default 0.0.0.0:8080
  int threads = 0;       // 0 = one per core
  std::size_t max_body = 1 << 20;
  std::size_t max_header = 16 << 10;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds shutdown_timeout{10000};  // graceful drain deadline
  std::vector<std::string> trusted_proxies;           // CIDRs
  int max_json_depth = 64;  // arrays/objects nested deeper in a JSON body → 400
  int workers = 0;          // worker-pool threads for blocking handlers; 0 = sized for the machine
  std::chrono::milliseconds handler_timeout{30000};  // then 504 handler_timeout
  bool batch_sends = true;  // a loop's ready responses in one io_uring call (core/http/io_batch)
  bool batch_reads = true;  // and the requests of its ready connections, read in one such call
  int yield_below_connections = 64;  // a batching loop with fewer yields its core after a turn
  std::optional<TlsConfig> tls;
  bool operator==(const ServerConfig&) const = default;
};

struct AdminConfig {
  ListenAddress listen;  // default 127.0.0.1:9901
  std::string token;     // empty = admin API refuses every request
  bool operator==(const AdminConfig&) const = default;
};

struct StorageConfig {
  std::string backend = "sqlite";
  std::string path = "var/portico.db";
  // The database a store plugin opens (postgresql://…); unused by the built-in sqlite.
  std::string url;
  // A write waits this long for a lock another process holds, then answers 503.
  std::chrono::milliseconds busy_timeout{5000};
  bool operator==(const StorageConfig&) const = default;
};

struct LoggingConfig {
  std::string dir = "var/log";
  int retention_days = 90;
  std::string level = "info";
  bool operator==(const LoggingConfig&) const = default;
};

struct SecurityConfig {
  std::string key_secret;  // keyed-hash secret for API keys; empty = generated once, kept in store
  std::int64_t client_ip_limit = 6000;  // pre-authentication requests per IP per window
  std::chrono::milliseconds client_ip_window{60000};
  std::int64_t auth_failure_limit = 20;  // failed authentications per IP per window → lockout
  std::chrono::milliseconds auth_failure_window{60000};
  std::chrono::milliseconds lockout{15 * 60000};
  // The data key secrets at rest are sealed under (checked by parse_data_key in
  // core/config/data_key.hpp). At most one of data_key and data_key_file is set; neither = the
  // file data.key next to storage.path.
  std::string data_key;
  std::string data_key_file;
  std::vector<std::string> previous_data_keys;  // still open values sealed under them
  bool operator==(const SecurityConfig&) const = default;
};

struct MonitoringConfig {
  std::string ops_webhook_url;     // anomalies are POSTed here when set (http://)
  std::string ops_webhook_secret;  // whsec_… signs them like partner webhooks; empty = unsigned
  bool operator==(const MonitoringConfig&) const = default;
};

struct TierConfig {
  std::string name;
  std::int64_t limit = 0;
  std::chrono::milliseconds window{60000};
  std::int64_t burst = 0;
  bool operator==(const TierConfig&) const = default;
};

// One [plugins.<name>] table. `enabled`, `version` and `path` are the core's; the other keys are
// the plugin's own and are checked by validate_plugin_config() against the plugin's schema.
struct PluginEntry {
  std::string name;
  bool enabled = true;
  std::string version_range;                           // "" = any
  std::string path;                                    // "" = search plugins.dir
  nlohmann::json settings = nlohmann::json::object();  // the plugin's own keys, ${ENV} applied
  std::string file;                                    // where the table is ("--set" if only there)
  int line = 0;                                        // line of the table header
  std::map<std::string, int> key_lines;                // line of each key in settings
  std::set<std::string> overridden_keys;  // settings keys given by --set (reported as "--set")
};

// A ${VAR:-fallback} reference whose fallback is in force, because VAR is unset or empty.
struct EnvFallback {
  std::string key;       // dotted path of the value, e.g. "admin.token"
  std::string variable;  // "PORTICO_ADMIN_TOKEN"
  std::string fallback;  // the text used instead
  std::string file;      // where the reference is written ("--set" for an override)
  int line = 0;
  bool variable_empty = false;  // VAR is set but empty (otherwise it is not set at all)
};

struct Config {
  std::string file;
  ServerConfig server;
  AdminConfig admin;
  StorageConfig storage;
  LoggingConfig logging;
  SecurityConfig security;
  MonitoringConfig monitoring;
  std::map<std::string, TierConfig> tiers;  // always has "basic" and "premium" unless overridden
  std::string plugins_dir = "build/plugins";
  std::vector<PluginEntry> plugins;        // in file order
  std::vector<EnvFallback> env_fallbacks;  // in document order
  // Accepted but worth an operator's attention (e.g. a short admin token on loopback, the demo
  // fallback token): `check` prints them to stderr, `serve` logs them at start.
  std::vector<std::string> warnings;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Reads and validates a config file; `overrides` are "section.key=value" strings from --set.
// Throws ConfigException with every problem found (not only the first).
Config load(const std::filesystem::path& file, const std::vector<std::string>& overrides = {},
            const EnvLookup& env = process_env());
// The same from text; `file_name` is used in messages.
Config parse(std::string_view text, std::string_view file_name,
             const std::vector<std::string>& overrides = {}, const EnvLookup& env = process_env());

// Checks a plugin's own keys against its schema; returns them as JSON with defaults filled in
// (durations as integer milliseconds, sizes as integer bytes). Throws ConfigException with keys
// named "plugins.<name>.<key>".
nlohmann::json validate_plugin_config(const PluginEntry& entry, const ConfigSchema& schema);

// "10s" → 10000 ms; "16KiB" → 16384. nullopt when malformed. Exposed for the CLI and tests.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<std::size_t> parse_size(std::string_view text);
// "0.0.0.0:8080", "[::1]:8080" → host and port (0 = any free port). nullopt when malformed.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace portico::config
