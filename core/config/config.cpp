// load() and parse(): read, override, substitute, validate, then build the typed Config.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "core/config/config.hpp"
#include "core/config/schema_validation.hpp"
#include "core/config/sections.hpp"
#include "core/config/toml_tree.hpp"

namespace portico::config {
namespace {

using nlohmann::json;

ConfigException cannot_read(const std::string& file, int error) {
  std::string reason = std::generic_category().message(error);
  return ConfigException({ConfigError{file, 0, "", "cannot read file (" + reason + ")"}});
}

std::string read_text(const std::string& file) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> stream(std::fopen(file.c_str(), "rb"),
                                                         &std::fclose);
  if (!stream) throw cannot_read(file, errno);
  std::string text;
  char buffer[1 << 16];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, stream.get())) > 0) {
    text.append(buffer, count);
  }
  if (std::ferror(stream.get())) throw cannot_read(file, errno);  // e.g. a directory
  return text;
}

// Validation guarantees a well-formed address here.
ListenAddress listen_address(const json& section) {
  return parse_listen_address(section.at("listen").get<std::string>()).value();
}

std::chrono::milliseconds duration(const json& section, const char* key) {
  return std::chrono::milliseconds(section.at(key).get<std::int64_t>());
}

// Only called once every section validated, so every key is present (given or defaulted).
Config to_config(ValidatedSections sections, const std::string& file) {
  Config config;
  config.file = file;

  const json& server = sections.server;
  config.server.listen = listen_address(server);
  config.server.threads = server.at("threads").get<int>();
  config.server.max_body = server.at("max_body").get<std::size_t>();
  config.server.max_header = server.at("max_header").get<std::size_t>();
  config.server.header_timeout = duration(server, "header_timeout");
  config.server.idle_timeout = duration(server, "idle_timeout");
  config.server.shutdown_timeout = duration(server, "shutdown_timeout");
  config.server.trusted_proxies = server.at("trusted_proxies").get<std::vector<std::string>>();
  config.server.max_json_depth = server.at("max_json_depth").get<int>();
  config.server.workers = server.at("workers").get<int>();
  config.server.handler_timeout = duration(server, "handler_timeout");
  config.server.batch_sends = server.at("batch_sends").get<bool>();
  config.server.batch_reads = server.at("batch_reads").get<bool>();
  config.server.yield_below_connections = server.at("yield_below_connections").get<int>();
  if (sections.tls) {
    config.server.tls =
        TlsConfig{listen_address(*sections.tls), sections.tls->at("cert").get<std::string>(),
                  sections.tls->at("key").get<std::string>()};
  }

  config.admin.listen = listen_address(sections.admin);
  config.admin.token = sections.admin.at("token").get<std::string>();
  config.storage.backend = sections.storage.at("backend").get<std::string>();
  config.storage.path = sections.storage.at("path").get<std::string>();
  config.storage.url = sections.storage.at("url").get<std::string>();
  config.storage.busy_timeout = duration(sections.storage, "busy_timeout");
  config.logging.dir = sections.logging.at("dir").get<std::string>();
  config.logging.retention_days = sections.logging.at("retention_days").get<int>();
  config.logging.level = sections.logging.at("level").get<std::string>();

  const json& security = sections.security;
  config.security.key_secret = security.at("key_secret").get<std::string>();
  config.security.client_ip_limit = security.at("client_ip_limit").get<std::int64_t>();
  config.security.client_ip_window = duration(security, "client_ip_window");
  config.security.auth_failure_limit = security.at("auth_failure_limit").get<std::int64_t>();
  config.security.auth_failure_window = duration(security, "auth_failure_window");
  config.security.lockout = duration(security, "lockout");
  config.security.data_key = security.at("data_key").get<std::string>();
  config.security.data_key_file = security.at("data_key_file").get<std::string>();
  config.security.previous_data_keys =
      security.at("previous_data_keys").get<std::vector<std::string>>();

  config.monitoring.ops_webhook_url = sections.monitoring.at("ops_webhook_url").get<std::string>();
  config.monitoring.ops_webhook_secret =
      sections.monitoring.at("ops_webhook_secret").get<std::string>();

  for (const auto& [name, tier] : sections.tiers) {
    config.tiers[name] = TierConfig{name, tier.at("limit").get<std::int64_t>(),
                                    duration(tier, "window"), tier.at("burst").get<std::int64_t>()};
  }

  config.plugins_dir = sections.plugins.at("dir").get<std::string>();
  for (auto& plugin : sections.plugin_entries) {
    PluginEntry entry = std::move(plugin.entry);
    entry.enabled = plugin.core.at("enabled").get<bool>();
    entry.version_range = plugin.core.at("version").get<std::string>();
    entry.path = plugin.core.at("path").get<std::string>();
    config.plugins.push_back(std::move(entry));
  }
  return config;
}

// "admin.token is the fallback 'dev-admin-token' from configs/portico.toml because
// PORTICO_ADMIN_TOKEN is not set; …". A long fallback is probably a real secret: not quoted.
std::string fallback_token_warning(const EnvFallback& fallback) {
  std::string value = fallback.fallback.size() < 32
                          ? "'" + fallback.fallback + "'"
                          : "of " + std::to_string(fallback.fallback.size()) + " characters";
  return "admin.token is the fallback " + value + " from " + fallback.file + " because " +
         fallback.variable + (fallback.variable_empty ? " is empty" : " is not set") + "; set " +
         fallback.variable + " for anything but a local demo";
}

}  // namespace

Config load(const std::filesystem::path& file, const std::vector<std::string>& overrides,
            const EnvLookup& env) {
  std::string name = file.string();
  return parse(read_text(name), name, overrides, env);
}

Config parse(std::string_view text, std::string_view file_name,
             const std::vector<std::string>& overrides, const EnvLookup& env) {
  std::string file(file_name);
  toml::table root = read_toml(text, file);

  std::vector<ConfigError> errors;
  apply_overrides(root, overrides, errors);
  std::vector<ConfigError> env_errors;
  std::vector<EnvFallback> fallbacks;
  substitute_env(root, file, env, env_errors, &fallbacks);
  std::vector<ConfigError> validation_errors;
  ValidatedSections sections = validate_sections(root, file, validation_errors);

  // A value whose ${VAR} failed would fail validation too; report only the cause.
  std::erase_if(validation_errors, [&](const ConfigError& error) {
    return std::any_of(env_errors.begin(), env_errors.end(),
                       [&](const ConfigError& cause) { return cause.key == error.key; });
  });
  errors.insert(errors.end(), env_errors.begin(), env_errors.end());
  errors.insert(errors.end(), validation_errors.begin(), validation_errors.end());
  if (!errors.empty()) {
    sort_by_position(errors);
    throw ConfigException(std::move(errors));
  }
  std::vector<std::string> warnings = std::move(sections.warnings);
  Config config = to_config(std::move(sections), file);
  for (const auto& fallback : fallbacks) {
    if (fallback.key == "admin.token" && !fallback.fallback.empty())
      warnings.push_back(fallback_token_warning(fallback));
  }
  config.env_fallbacks = std::move(fallbacks);
  config.warnings = std::move(warnings);
  return config;
}

}  // namespace portico::config
