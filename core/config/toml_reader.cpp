// Reading TOML text and turning its nodes into JSON with the file and line they came from.
#include <sstream>
#include <string>
#include <type_traits>

#include "core/config/toml_tree.hpp"

namespace portico::config {

toml::table read_toml(std::string_view text, const std::string& file) {
  try {
    return toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& error) {
    auto line = static_cast<int>(error.source().begin.line);
    throw ConfigException({ConfigError{file, line, "", std::string(error.description())}});
  }
}

Origin origin_of(const toml::node& node, const std::string& file) {
  const auto& source = node.source();
  // Parsed nodes always have a line; tables and strings made by --set have none.
  if (source.begin.line == 0 || (source.path && *source.path == kOverrideFile)) {
    return Origin{std::string(kOverrideFile), 0};
  }
  return Origin{file, static_cast<int>(source.begin.line)};
}

nlohmann::json to_json(const toml::node& node) {
  return node.visit([](const auto& value) -> nlohmann::json {
    using Node = std::remove_cvref_t<decltype(value)>;
    if constexpr (std::is_same_v<Node, toml::table>) {
      auto object = nlohmann::json::object();
      for (const auto& [key, child] : value) object[std::string(key.str())] = to_json(child);
      return object;
    } else if constexpr (std::is_same_v<Node, toml::array>) {
      auto array = nlohmann::json::array();
      for (const auto& child : value) array.push_back(to_json(child));
      return array;
    } else if constexpr (std::is_same_v<Node, toml::value<std::string>> ||
                         std::is_same_v<Node, toml::value<std::int64_t>> ||
                         std::is_same_v<Node, toml::value<double>> ||
                         std::is_same_v<Node, toml::value<bool>>) {
      return value.get();
    } else {
      // Dates and times have no JSON type; plugins receive them as their TOML text.
      std::ostringstream text;
      text << value;
      return text.str();
    }
  });
}

SourcedTable to_sourced_table(const toml::table& table, const std::string& file) {
  SourcedTable sourced;
  sourced.origin = origin_of(table, file);
  for (const auto& [key, child] : table) {
    std::string name(key.str());
    sourced.values[name] = to_json(child);
    sourced.key_origins[name] = origin_of(child, file);
  }
  return sourced;
}

}  // namespace portico::config
