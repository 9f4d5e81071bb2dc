// Walks the document's sections and checks each against its core schema with the one validator.
#include "core/config/sections.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "core/config/core_schemas.hpp"
#include "core/config/data_key.hpp"
#include "core/config/schema_validation.hpp"
#include "core/config/toml_tree.hpp"

namespace portico::config {
namespace {

using nlohmann::json;

const toml::table* child_table(const toml::table* parent, std::string_view key) {
  return parent ? parent->get_as<toml::table>(key) : nullptr;
}

// An admin listener on a loopback address is reachable from this host only.
bool is_loopback(const ListenAddress& address) {
  const std::string& host = address.host;
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0 ||
         host.rfind("::ffff:127.", 0) == 0;
}

constexpr std::size_t kMinAdminTokenOffHost = 32;

// admin.token against admin.listen: anything reachable off-host needs a token of 32+ characters
// (an error naming the file); on loopback a shorter or empty token is only a warning.
void check_admin_token(const json& admin, const std::string& file, std::vector<ConfigError>& errors,
                       std::vector<std::string>& warnings) {
  auto listen_text = admin.find("listen");
  auto token_text = admin.find("token");
  if (listen_text == admin.end() || token_text == admin.end() || !listen_text->is_string() ||
      !token_text->is_string()) {
    return;  // already reported by the schema
  }
  auto listen = parse_listen_address(listen_text->get<std::string>());
  if (!listen) return;  // already reported by listener_section
  std::size_t length = token_text->get_ref<const std::string&>().size();
  if (length >= kMinAdminTokenOffHost) return;
  std::string where = "admin.listen (" + listen->to_string() + ")";
  if (!is_loopback(*listen)) {
    errors.push_back(
        ConfigError{file, 0, "admin.token",
                    "must be at least 32 characters when " + where + " is not a loopback address"});
  } else if (length == 0) {
    warnings.push_back(file +
                       " admin.token: empty, so the admin API refuses every request but "
                       "/healthz and /readyz");
  } else {
    warnings.push_back(file + " admin.token: shorter than 32 characters, accepted only because " +
                       where + " is a loopback address");
  }
}

bool is_core_plugin_key(const std::string& key) {
  const auto& fields = plugin_entry_schema().fields;
  return std::any_of(fields.begin(), fields.end(), [&](const auto& f) { return f.key == key; });
}

class SectionValidator {
 public:
  SectionValidator(const std::string& file, std::vector<ConfigError>& errors)
      : file_(file), errors_(errors) {}

  // An absent section validates as an empty table, so its defaults apply.
  SourcedTable sourced(const toml::table* table) const {
    if (table) return to_sourced_table(*table, file_);
    SourcedTable empty;
    empty.origin = Origin{file_, 0};
    return empty;
  }

  json section(const toml::table* table, const ConfigSchema& schema, const std::string& name) {
    return validate_table(sourced(table), schema, name, errors_);
  }

  // Like section(), plus the `listen` key parsed as an address.
  json listener_section(const toml::table* table, const ConfigSchema& schema,
                        const std::string& name) {
    SourcedTable source = sourced(table);
    json values = validate_table(source, schema, name, errors_);
    auto listen = values.find("listen");
    if (source.values.contains("listen") && listen != values.end() &&
        !parse_listen_address(listen->get<std::string>())) {
      errors_.push_back(make_error(source.origin_of("listen"), name + ".listen",
                                   "invalid address \"" + listen->get<std::string>() +
                                       "\" (use host:port, e.g. \"0.0.0.0:8080\")"));
    }
    return values;
  }

  // Like section(), plus the data keys read as keys. Their text is a secret: never quoted back.
  json security_section(const toml::table* table) {
    SourcedTable source = sourced(table);
    json values = validate_table(source, security_schema(), "security", errors_);
    auto refuse = [&](const std::string& key, const std::string& name, std::string message) {
      errors_.push_back(make_error(source.origin_of(key), name, std::move(message)));
    };
    const auto data_key = values.find("data_key");
    const bool has_data_key = data_key != values.end() && data_key->is_string();
    if (source.values.contains("data_key") && has_data_key) {
      const auto& text = data_key->get_ref<const std::string&>();
      if (text.empty()) {
        refuse("data_key", "security.data_key",
               "is empty (an empty environment variable?); leave the key out to use "
               "data_key_file instead");
      } else if (!parse_data_key(text)) {
        refuse("data_key", "security.data_key", std::string(kDataKeyFormat));
      }
    }
    const auto file = values.find("data_key_file");
    if (has_data_key && !data_key->get_ref<const std::string&>().empty() && file != values.end() &&
        file->is_string() && !file->get_ref<const std::string&>().empty()) {
      refuse("data_key_file", "security.data_key_file",
             "set either data_key or data_key_file, not both");
    }
    const auto previous = values.find("previous_data_keys");
    if (previous != values.end() && previous->is_array()) {
      for (std::size_t i = 0; i < previous->size(); ++i) {
        const json& key = (*previous)[i];
        if (!key.is_string() || !parse_data_key(key.get_ref<const std::string&>())) {
          refuse("previous_data_keys", "security.previous_data_keys[" + std::to_string(i) + "]",
                 std::string(kDataKeyFormat));
        }
      }
    }
    return values;
  }

  std::map<std::string, json> tiers(const toml::table* table) {
    SourcedTable all = sourced(table);
    json tier_tables = validate_table(all, tiers_schema(all.values), "tiers", errors_);
    std::map<std::string, json> result;
    for (const auto& [name, value] : tier_tables.items()) {
      const toml::table* configured = child_table(table, name);
      SourcedTable tier;
      if (configured) {
        tier = to_sourced_table(*configured, file_);
      } else {  // a default tier
        tier.values = value;
        tier.origin = Origin{file_, 0};
      }
      result[name] = validate_table(tier, tier_schema(), "tiers." + name, errors_);
    }
    return result;
  }

  json plugins(const toml::table* table, std::vector<ValidatedPlugin>& entries) {
    SourcedTable all = sourced(table);
    json values = validate_table(all, plugins_schema(all.values), "plugins", errors_);
    for (const auto& [name, value] : values.items()) {
      const toml::table* plugin = child_table(table, name);
      if (name != "dir" && plugin) entries.push_back(plugin_entry(name, *plugin));
    }
    // toml++ tables are sorted by key; the header lines give back the file order.
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return std::pair(a.entry.file == kOverrideFile, a.entry.line) <
             std::pair(b.entry.file == kOverrideFile, b.entry.line);
    });
    json section = json::object();
    if (values.contains("dir")) section["dir"] = values["dir"];
    return section;
  }

 private:
  // The core's keys are checked now; the plugin's own keys wait for its schema.
  ValidatedPlugin plugin_entry(const std::string& name, const toml::table& table) {
    SourcedTable all = to_sourced_table(table, file_);
    SourcedTable core;
    core.origin = all.origin;
    ValidatedPlugin plugin;
    PluginEntry& entry = plugin.entry;
    entry.name = name;
    entry.file = all.origin.file;
    entry.line = all.origin.line;
    for (const auto& [key, value] : all.values.items()) {
      Origin origin = all.origin_of(key);
      if (is_core_plugin_key(key)) {
        core.values[key] = value;
        core.key_origins[key] = origin;
        continue;
      }
      entry.settings[key] = value;
      entry.key_lines[key] = origin.line;
      if (origin.file == kOverrideFile) entry.overridden_keys.insert(key);
    }
    plugin.core = validate_table(core, plugin_entry_schema(), "plugins." + name, errors_);
    return plugin;
  }

  const std::string& file_;
  std::vector<ConfigError>& errors_;
};

}  // namespace

ValidatedSections validate_sections(const toml::table& root, const std::string& file,
                                    std::vector<ConfigError>& errors) {
  SectionValidator validator(file, errors);
  validator.section(&root, root_schema(), "");  // unknown sections, sections that are not tables

  ValidatedSections sections;
  const toml::table* server = child_table(&root, "server");
  sections.server = validator.listener_section(server, server_schema(), "server");
  if (const toml::table* tls = child_table(server, "tls")) {
    sections.tls = validator.listener_section(tls, tls_schema(), "server.tls");
  }
  sections.admin = validator.listener_section(child_table(&root, "admin"), admin_schema(), "admin");
  check_admin_token(sections.admin, file, errors, sections.warnings);
  sections.storage = validator.section(child_table(&root, "storage"), storage_schema(), "storage");
  sections.logging = validator.section(child_table(&root, "logging"), logging_schema(), "logging");
  sections.security = validator.security_section(child_table(&root, "security"));
  sections.monitoring =
      validator.section(child_table(&root, "monitoring"), monitoring_schema(), "monitoring");
  sections.tiers = validator.tiers(child_table(&root, "tiers"));
  sections.plugins = validator.plugins(child_table(&root, "plugins"), sections.plugin_entries);
  return sections;
}

}  // namespace portico::config
