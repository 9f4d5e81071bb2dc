// --set section.key=value overrides, applied to the parsed document before validation.
#include <string>
#include <string_view>

#include "core/config/toml_tree.hpp"
#include "core/util/strings.hpp"

namespace portico::config {
namespace {

ConfigError override_error(std::string key, std::string message) {
  return ConfigError{std::string(kOverrideFile), 0, std::move(key), std::move(message)};
}

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    default: return "a date or time";
  }
}

// The value as TOML (`true`, `8`, `"x"`, `["a","b"]`), else as a plain string.
void assign(toml::table& table, const std::string& key, std::string_view value) {
  try {
    toml::table document = toml::parse("v = " + std::string(value), kOverrideFile);
    if (document.size() == 1 && document.contains("v")) {
      // Moving keeps the node's source, which marks it as coming from --set.
      table.insert_or_assign(key, std::move(*document.get("v")));
      return;
    }
  } catch (const toml::parse_error&) {
    // not TOML: a plain string
  }
  table.insert_or_assign(key, std::string(value));
}

void apply_override(toml::table& root, const std::string& text, std::vector<ConfigError>& errors) {
  // A value that is not TOML is taken as a plain string, so bytes that are not UTF-8 would reach
  // the settings (and break every JSON answer that shows them). The text is not quoted back: the
  // message must be valid UTF-8 itself. Found by the toml_config fuzz target.
  if (!util::is_utf8(text)) {
    errors.push_back(override_error("", "an override is not valid UTF-8 text"));
    return;
  }
  auto equals = text.find('=');
  std::string key(util::trim(std::string_view(text).substr(0, equals)));
  auto parts = util::split(key, '.');
  bool malformed = equals == std::string::npos || key.empty();
  for (auto& part : parts) {
    part = std::string(util::trim(part));
    malformed = malformed || part.empty();
  }
  if (malformed) {
    errors.push_back(override_error(
        "", "invalid override \"" + text + "\" (use section.key=value, e.g. server.threads=4)"));
    return;
  }
  toml::table* table = &root;
  std::string path;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    path += (path.empty() ? "" : ".") + parts[i];
    toml::node* child = table->get(parts[i]);
    if (!child) child = &table->insert(parts[i], toml::table{}).first->second;
    if (!child->is_table()) {
      errors.push_back(override_error(key, path + " is " + type_name(*child) + ", not a table"));
      return;
    }
    table = child->as_table();
  }
  assign(*table, parts.back(), util::trim(std::string_view(text).substr(equals + 1)));
}

}  // namespace

void apply_overrides(toml::table& root, const std::vector<std::string>& overrides,
                     std::vector<ConfigError>& errors) {
  for (const auto& text : overrides) apply_override(root, text, errors);
}

}  // namespace portico::config
