// A plugin's config schema as plain values. The core validates a plugin's TOML table against it
// before init() and hands the plugin JSON with defaults filled in, so the plugin never re-checks.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace portico {

enum class FieldType {
  string,
  integer,
  number,
  boolean,
  duration,      // TOML "250ms", "10s", "5m", "1h", "1d" → JSON integer milliseconds
  size,          // TOML "512", "16KiB", "1MiB", "1GiB", "1KB" → JSON integer bytes
  string_array,  // TOML array of strings
  table,         // free-form TOML table → JSON object, checked by the plugin itself
};

struct ConfigField {
  std::string key;
  FieldType type = FieldType::string;
  std::string description;
  bool required = false;
  nlohmann::json default_value;  // null = no default (absent key stays absent)
  std::optional<double> min;     // integer/number; for duration in ms; for size in bytes
  std::optional<double> max;
  std::vector<std::string> one_of;  // allowed values of a string field
};

struct ConfigSchema {
  std::vector<ConfigField> fields;
};

}  // namespace portico
