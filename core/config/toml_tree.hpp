// The parsed TOML document before validation: reading it, applying --set overrides and ${ENV}
// substitution in place, and turning its tables into SourcedTables. Only core/config includes it.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "core/config/schema_validation.hpp"

namespace portico::config {

// Throws ConfigException with the syntax error ("file:line: description").
toml::table read_toml(std::string_view text, const std::string& file);

// Nodes parsed from the file carry its name and line; nodes made by --set report "--set".
Origin origin_of(const toml::node& node, const std::string& file);

nlohmann::json to_json(const toml::node& node);
SourcedTable to_sourced_table(const toml::table& table, const std::string& file);

// Applies "section.key=value" overrides, creating missing tables. Problems go to `errors`.
void apply_overrides(toml::table& root, const std::vector<std::string>& overrides,
                     std::vector<ConfigError>& errors);

// Replaces ${VAR} and ${VAR:-fallback} in every string value, arrays and nested tables included.
// Each fallback put in force is recorded in `fallbacks` when given.
void substitute_env(toml::table& root, const std::string& file, const EnvLookup& env,
                    std::vector<ConfigError>& errors,
                    std::vector<EnvFallback>* fallbacks = nullptr);

}  // namespace portico::config
