// The document's sections validated against the core schemas, as JSON with defaults filled in;
// config.cpp turns them into the typed Config once nothing is wrong.
#pragma once

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config.hpp"

namespace portico::config {

struct ValidatedPlugin {
  PluginEntry entry;    // name, file, line, settings, key_lines, overridden_keys
  nlohmann::json core;  // enabled, version, path
};

struct ValidatedSections {
  nlohmann::json server;
  std::optional<nlohmann::json> tls;  // present when [server.tls] is
  nlohmann::json admin;
  nlohmann::json storage;
  nlohmann::json logging;
  nlohmann::json security;
  nlohmann::json monitoring;
  std::map<std::string, nlohmann::json> tiers;  // the default tiers merged with the configured ones
  nlohmann::json plugins;                       // dir
  std::vector<ValidatedPlugin> plugin_entries;  // in file order, then those made by --set
  std::vector<std::string> warnings;            // accepted, but worth saying (Config::warnings)
};

ValidatedSections validate_sections(const toml::table& root, const std::string& file,
                                    std::vector<ConfigError>& errors);

}  // namespace portico::config
