// The one validator: types, durations and sizes, ranges, one_of, required keys, defaults and
// did-you-mean hints for unknown keys, for core sections and plugin tables alike.
#include "core/config/schema_validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "core/config/units.hpp"
#include "core/util/strings.hpp"

namespace portico::config {
namespace {

using nlohmann::json;

std::string actual_type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::string: return "a string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "a table";
    default: return "nothing";
  }
}

std::string expected_type_name(FieldType type) {
  switch (type) {
    case FieldType::string: return "a string";
    case FieldType::integer: return "an integer";
    case FieldType::number: return "a number";
    case FieldType::boolean: return "a boolean";
    case FieldType::duration: return "a duration such as \"10s\"";
    case FieldType::size: return "a size such as \"1MiB\"";
    case FieldType::string_array: return "an array of strings";
    case FieldType::table: return "a table";
  }
  return "a value";
}

std::string in_quotes(const std::string& text) {
  return "\"" + text + "\"";
}

std::string type_problem(FieldType expected, const json& value) {
  return "expected " + expected_type_name(expected) + ", got " + actual_type_name(value);
}

// A bound or value as the operator wrote it: "1s" for durations, "1MiB" for sizes.
std::string format_value(FieldType type, double value) {
  switch (type) {
    case FieldType::duration: return format_duration(static_cast<std::int64_t>(value));
    case FieldType::size: return format_size(static_cast<std::uint64_t>(value));
    default: break;
  }
  if (std::trunc(value) == value && std::abs(value) < 9e15) {
    return std::to_string(static_cast<std::int64_t>(value));
  }
  std::ostringstream text;
  text << value;
  return text.str();
}

// Empty when `value` (an integer, number, duration in ms or size in bytes) is within bounds.
std::string range_problem(const ConfigField& field, double value) {
  if (field.min && value < *field.min) {
    return "must be at least " + format_value(field.type, *field.min) + ", got " +
           format_value(field.type, value);
  }
  if (field.max && value > *field.max) {
    return "must be at most " + format_value(field.type, *field.max) + ", got " +
           format_value(field.type, value);
  }
  return {};
}

std::string one_of_problem(const ConfigField& field, const std::string& value) {
  if (field.one_of.empty()) return {};
  for (const auto& allowed : field.one_of) {
    if (allowed == value) return {};
  }
  std::string list;
  for (const auto& allowed : field.one_of) list += (list.empty() ? "" : ", ") + allowed;
  return "must be one of " + list + "; got " + in_quotes(value);
}

std::optional<std::int64_t> as_duration_ms(const json& value) {
  if (!value.is_string()) return std::nullopt;
  auto parsed = parse_duration(value.get<std::string>());
  if (!parsed) return std::nullopt;
  return parsed->count();
}

std::optional<std::uint64_t> as_size_bytes(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer()) {
    auto number = value.get<std::int64_t>();
    if (number < 0) return std::nullopt;
    return static_cast<std::uint64_t>(number);
  }
  auto parsed = parse_size(value.get<std::string>());
  if (!parsed) return std::nullopt;
  return *parsed;
}

bool is_string_array(const json& value) {
  if (!value.is_array()) return false;
  for (const auto& element : value) {
    if (!element.is_string()) return false;
  }
  return true;
}

// Converts one present value to what the schema promises into `out`; returns the problem, if any.
std::string convert(const ConfigField& field, const json& value, json& out) {
  switch (field.type) {
    case FieldType::string:
      if (!value.is_string()) return type_problem(field.type, value);
      out = value;
      return one_of_problem(field, value.get<std::string>());
    case FieldType::integer:
      if (!value.is_number_integer()) return type_problem(field.type, value);
      out = value;
      return range_problem(field, value.get<double>());
    case FieldType::number:
      if (!value.is_number()) return type_problem(field.type, value);
      out = value.get<double>();
      return range_problem(field, value.get<double>());
    case FieldType::boolean:
      if (!value.is_boolean()) return type_problem(field.type, value);
      out = value;
      return {};
    case FieldType::duration: {
      if (!value.is_string()) return type_problem(field.type, value);
      auto milliseconds = as_duration_ms(value);
      if (!milliseconds) {
        return "invalid duration " + in_quotes(value.get<std::string>()) +
               " (use a number with ms, s, m, h or d, e.g. \"10s\")";
      }
      out = *milliseconds;
      return range_problem(field, static_cast<double>(*milliseconds));
    }
    case FieldType::size: {
      if (!value.is_string() && !value.is_number_integer()) return type_problem(field.type, value);
      auto bytes = as_size_bytes(value);
      if (!bytes) {
        std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        return "invalid size " + in_quotes(text) + " (use bytes or KiB, MiB, GiB, e.g. \"1MiB\")";
      }
      out = *bytes;
      return range_problem(field, static_cast<double>(*bytes));
    }
    case FieldType::string_array:
      if (!is_string_array(value)) return type_problem(field.type, value);
      out = value;
      return {};
    case FieldType::table:
      if (!value.is_object()) return type_problem(field.type, value);
      out = value;
      return {};
  }
  return "unsupported field type";
}

std::string unknown_problem(const std::string& key, const json& value, const ConfigSchema& schema) {
  std::vector<std::string> known;
  known.reserve(schema.fields.size());
  for (const auto& field : schema.fields) known.push_back(field.key);
  std::string text = value.is_object() ? "unknown section" : "unknown key";
  std::string hint = util::closest_match(key, known);
  if (!hint.empty()) text += " (did you mean '" + hint + "'?)";
  return text;
}

// Defaults pass through the same conversion, so a schema may write durations as "10s".
json converted_default(const ConfigField& field) {
  json out;
  if (convert(field, field.default_value, out).empty()) return out;
  return field.default_value;
}

const ConfigField* find_field(const ConfigSchema& schema, const std::string& key) {
  for (const auto& field : schema.fields) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

}  // namespace

Origin SourcedTable::origin_of(const std::string& key) const {
  auto found = key_origins.find(key);
  if (found != key_origins.end()) return found->second;
  return Origin{origin.file, 0};
}

ConfigError make_error(const Origin& origin, std::string key, std::string message) {
  return ConfigError{origin.file, origin.line, std::move(key), std::move(message)};
}

void sort_by_position(std::vector<ConfigError>& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return std::pair(a.file == kOverrideFile, a.line) < std::pair(b.file == kOverrideFile, b.line);
  });
}

json validate_table(const SourcedTable& table, const ConfigSchema& schema, std::string_view prefix,
                    std::vector<ConfigError>& errors) {
  auto full_key = [&](const std::string& key) {
    return prefix.empty() ? key : std::string(prefix) + "." + key;
  };
  json out = json::object();
  for (const auto& [key, value] : table.values.items()) {
    const ConfigField* field = find_field(schema, key);
    std::string problem;
    json converted;
    if (!field) {
      problem = unknown_problem(key, value, schema);
    } else {
      problem = convert(*field, value, converted);
    }
    if (!problem.empty()) {
      errors.push_back(make_error(table.origin_of(key), full_key(key), std::move(problem)));
    } else {
      out[key] = std::move(converted);
    }
  }
  for (const auto& field : schema.fields) {
    if (table.values.contains(field.key)) continue;
    if (field.required) {
      errors.push_back(make_error(table.origin, full_key(field.key), "required key is missing"));
    } else if (!field.default_value.is_null()) {
      out[field.key] = converted_default(field);
    }
  }
  return out;
}

nlohmann::json validate_plugin_config(const PluginEntry& entry, const ConfigSchema& schema) {
  SourcedTable table;
  table.values = entry.settings.is_object() ? entry.settings : json::object();
  table.origin = Origin{entry.file, entry.line};
  for (const auto& [key, value] : table.values.items()) {
    if (entry.overridden_keys.contains(key)) {
      table.key_origins[key] = Origin{std::string(kOverrideFile), 0};
    } else if (auto line = entry.key_lines.find(key); line != entry.key_lines.end()) {
      table.key_origins[key] = Origin{entry.file, line->second};
    }
  }
  std::vector<ConfigError> errors;
  json values = validate_table(table, schema, "plugins." + entry.name, errors);
  if (!errors.empty()) {
    sort_by_position(errors);
    throw ConfigException(std::move(errors));
  }
  return values;
}

}  // namespace portico::config
