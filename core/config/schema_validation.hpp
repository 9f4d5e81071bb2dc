// The one validator shared by the core sections and plugin tables: a table's values (as JSON,
// with where each key came from) checked against a ConfigSchema, defaults filled in.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "portico/config_schema.hpp"

namespace portico::config {

// Where a value came from: the config file and its line, or "--set" with line 0.
struct Origin {
  std::string file;
  int line = 0;
};

inline constexpr std::string_view kOverrideFile = "--set";

// One table ready for validation.
struct SourcedTable {
  nlohmann::json values = nlohmann::json::object();
  Origin origin;                              // the table header
  std::map<std::string, Origin> key_origins;  // each key of `values`

  // The key's origin; the table's file without a line when the key's origin is unknown.
  Origin origin_of(const std::string& key) const;
};

ConfigError make_error(const Origin& origin, std::string key, std::string message);

// Orders errors as an operator reads them: the file's by line, then those from --set.
void sort_by_position(std::vector<ConfigError>& errors);

// Checks `table` against `schema`, appending every problem to `errors` with keys named
// "<prefix>.<key>". Returns the valid values with defaults filled in (durations as integer ms,
// sizes as integer bytes); keys that are unknown or invalid are left out.
nlohmann::json validate_table(const SourcedTable& table, const ConfigSchema& schema,
                              std::string_view prefix, std::vector<ConfigError>& errors);

}  // namespace portico::config
