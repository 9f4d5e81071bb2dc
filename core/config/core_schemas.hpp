// The core's own sections declared as ConfigSchemas, checked by the same validator as plugins.
#pragma once

#include <nlohmann/json.hpp>

#include "portico/config_schema.hpp"

namespace portico::config {

const ConfigSchema& root_schema();  // the known sections, each a table
const ConfigSchema& server_schema();
const ConfigSchema& tls_schema();
const ConfigSchema& admin_schema();
const ConfigSchema& storage_schema();
const ConfigSchema& logging_schema();
const ConfigSchema& tier_schema();
const ConfigSchema& security_schema();
const ConfigSchema& monitoring_schema();
const ConfigSchema& plugin_entry_schema();  // the core's keys of a [plugins.<name>] table

// [tiers]: the default tiers plus one table per configured tier name.
ConfigSchema tiers_schema(const nlohmann::json& configured);
// [plugins]: `dir` plus one table per configured plugin.
ConfigSchema plugins_schema(const nlohmann::json& configured);

}  // namespace portico::config
