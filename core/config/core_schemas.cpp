// The core sections as ConfigSchema values: the keys, types, bounds and defaults operators see.
#include "core/config/core_schemas.hpp"

// GCC 12 flags members left out of designated initializers; leaving them out is the point here.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace portico::config {

using nlohmann::json;

const ConfigSchema& root_schema() {
  static const ConfigSchema schema{{
      {.key = "server", .type = FieldType::table, .description = "HTTP listener and limits"},
      {.key = "admin", .type = FieldType::table, .description = "admin API"},
      {.key = "storage", .type = FieldType::table, .description = "partner and key storage"},
      {.key = "logging", .type = FieldType::table, .description = "request logs"},
      {.key = "tiers", .type = FieldType::table, .description = "rate limit tiers by name"},
      {.key = "security", .type = FieldType::table, .description = "key hashing and abuse limits"},
      {.key = "monitoring", .type = FieldType::table, .description = "anomaly notifications"},
      {.key = "plugins", .type = FieldType::table, .description = "plugin directory and tables"},
  }};
  return schema;
}

const ConfigSchema& server_schema() {
  static const ConfigSchema schema{{
      {.key = "listen",
       .type = FieldType::string,
       .description = "host:port for plain HTTP",
       .default_value = "0.0.0.0:8080"},
      {.key = "threads",
       .type = FieldType::integer,
       .description = "I/O threads; 0 = one per core",
       .default_value = 0,
       .min = 0,
       .max = 1024},
      {.key = "max_body",
       .type = FieldType::size,
       .description = "largest request body",
       .default_value = "1MiB"},
      {.key = "max_header",
       .type = FieldType::size,
       .description = "largest request header block",
       .default_value = "16KiB",
       .min = 1024},
      {.key = "header_timeout",
       .type = FieldType::duration,
       .description = "time to receive the request headers",
       .default_value = "10s",
       .min = 1},
      {.key = "idle_timeout",
       .type = FieldType::duration,
       .description = "keep-alive idle time",
       .default_value = "60s",
       .min = 1},
      {.key = "shutdown_timeout",
       .type = FieldType::duration,
       .description = "graceful drain deadline",
       .default_value = "10s"},
      {.key = "trusted_proxies",
       .type = FieldType::string_array,
       .description = "CIDRs whose X-Forwarded-For is believed",
       .default_value = json::array()},
      {.key = "max_json_depth",
       .type = FieldType::integer,
       .description = "deepest nesting of arrays and objects in a JSON body",
       .default_value = 64,
       .min = 2,
       .max = 512},
      {.key = "workers",
       .type = FieldType::integer,
       .description = "worker threads for blocking handlers; 0 = 16 per core, at least 32",
       .default_value = 0,
       .min = 0,
       .max = 1024},
      {.key = "handler_timeout",
       .type = FieldType::duration,
       .description = "longest wait for a request's answer, then 504 handler_timeout",
       .default_value = "30s",
       .min = 1,
       .max = 3600000},
      {.key = "batch_sends",
       .type = FieldType::boolean,
       .description = "send an I/O thread's ready responses with one io_uring call; false = "
                      "one sendmsg each",
       .default_value = true},
      {.key = "batch_reads",
       .type = FieldType::boolean,
       .description = "read the connections an I/O thread finds ready with one io_uring call; "
                      "false = one recv each",
       .default_value = true},
      {.key = "yield_below_connections",
       .type = FieldType::integer,
       .description = "an I/O thread with fewer connections than this gives up its core after "
                      "each turn (sched_yield), so the threads it woke run at once; 0 = never",
       .default_value = 64,
       .min = 0,
       .max = 1000000},
      {.key = "tls", .type = FieldType::table, .description = "HTTPS listener"},
  }};
  return schema;
}

const ConfigSchema& tls_schema() {
  static const ConfigSchema schema{{
      {.key = "listen",
       .type = FieldType::string,
       .description = "host:port for HTTPS",
       .default_value = "0.0.0.0:8443"},
      {.key = "cert",
       .type = FieldType::string,
       .description = "PEM certificate",
       .required = true},
      {.key = "key", .type = FieldType::string, .description = "PEM private key", .required = true},
  }};
  return schema;
}

const ConfigSchema& admin_schema() {
  static const ConfigSchema schema{{
      {.key = "listen",
       .type = FieldType::string,
       .description = "host:port for the admin API",
       .default_value = "127.0.0.1:9901"},
      {.key = "token",
       .type = FieldType::string,
       .description = "bearer token; empty refuses every request",
       .default_value = ""},
  }};
  return schema;
}

const ConfigSchema& storage_schema() {
  static const ConfigSchema schema{{
      {.key = "backend",
       .type = FieldType::string,
       .description = "storage engine: the built-in sqlite, or a store plugin (\"postgres\" = "
                      "store_postgres)",
       .default_value = "sqlite"},
      {.key = "path",
       .type = FieldType::string,
       .description = "database file (sqlite)",
       .default_value = "var/portico.db"},
      {.key = "url",
       .type = FieldType::string,
       .description = "the database a store plugin opens, e.g. postgresql://user@host/db",
       .default_value = ""},
      {.key = "busy_timeout",
       .type = FieldType::duration,
       .description = "how long a write waits for a lock held elsewhere before 503",
       .default_value = "5s",
       .min = 1},
  }};
  return schema;
}

const ConfigSchema& logging_schema() {
  static const ConfigSchema schema{{
      {.key = "dir",
       .type = FieldType::string,
       .description = "directory of the daily request logs",
       .default_value = "var/log"},
      {.key = "retention_days",
       .type = FieldType::integer,
       .description = "days of logs kept",
       .default_value = 90,
       .min = 1,
       .max = 36500},
      {.key = "level",
       .type = FieldType::string,
       .description = "minimum level of the gateway's own log",
       .default_value = "info",
       .one_of = {"trace", "debug", "info", "warn", "error", "critical", "off"}},
  }};
  return schema;
}

const ConfigSchema& security_schema() {
  static const ConfigSchema schema{{
      {.key = "key_secret",
       .type = FieldType::string,
       .description = "server secret for API key hashes (32+ chars); empty = one kept in the store",
       .default_value = ""},
      {.key = "client_ip_limit",
       .type = FieldType::integer,
       .description = "requests per client IP per client_ip_window, before authentication",
       .default_value = 6000,
       .min = 1},
      {.key = "client_ip_window",
       .type = FieldType::duration,
       .description = "window of client_ip_limit",
       .default_value = "1m",
       .min = 1000},
      {.key = "auth_failure_limit",
       .type = FieldType::integer,
       .description = "failed authentications from one IP that trigger a lockout",
       .default_value = 20,
       .min = 1},
      {.key = "auth_failure_window",
       .type = FieldType::duration,
       .description = "window in which auth_failure_limit failures are counted",
       .default_value = "1m",
       .min = 1000},
      {.key = "lockout",
       .type = FieldType::duration,
       .description = "how long a locked-out IP is refused",
       .default_value = "15m",
       .min = 1000},
      {.key = "data_key",
       .type = FieldType::string,
       .description = "key that secrets at rest (webhook signing secrets) are encrypted under: 64 "
                      "hex digits or base64 of 32 bytes (production: ${PORTICO_DATA_KEY}); "
                      "unset = data_key_file",
       .default_value = ""},
      {.key = "data_key_file",
       .type = FieldType::string,
       .description = "file holding the data key, created with a random one (mode 0600) when "
                      "missing; empty = data.key next to storage.path",
       .default_value = ""},
      {.key = "previous_data_keys",
       .type = FieldType::string_array,
       .description = "older data keys that still open secrets sealed under them (key rotation)",
       .default_value = json::array()},
  }};
  return schema;
}

const ConfigSchema& monitoring_schema() {
  static const ConfigSchema schema{{
      {.key = "ops_webhook_url",
       .type = FieldType::string,
       .description = "http:// URL that receives anomaly notifications; empty = none",
       .default_value = ""},
      {.key = "ops_webhook_secret",
       .type = FieldType::string,
       .description = "whsec_ secret signing them (Standard Webhooks); empty = unsigned",
       .default_value = ""},
  }};
  return schema;
}

const ConfigSchema& tier_schema() {
  static const ConfigSchema schema{{
      {.key = "limit",
       .type = FieldType::integer,
       .description = "requests allowed per window",
       .required = true,
       .min = 1},
      {.key = "window",
       .type = FieldType::duration,
       .description = "length of the rate limit window",
       .default_value = "1m",
       .min = 1000},
      {.key = "burst",
       .type = FieldType::integer,
       .description = "extra requests allowed in a burst",
       .default_value = 0,
       .min = 0},
  }};
  return schema;
}

const ConfigSchema& plugin_entry_schema() {
  static const ConfigSchema schema{{
      {.key = "enabled",
       .type = FieldType::boolean,
       .description = "false keeps the plugin configured but off",
       .default_value = true},
      {.key = "version",
       .type = FieldType::string,
       .description = "semver range the plugin must satisfy; empty = any",
       .default_value = ""},
      {.key = "path",
       .type = FieldType::string,
       .description = "explicit plugin file instead of a search of plugins.dir",
       .default_value = ""},
  }};
  return schema;
}

ConfigSchema tiers_schema(const json& configured) {
  ConfigSchema schema{{
      {.key = "basic",
       .type = FieldType::table,
       .description = "default tier",
       .default_value = {{"limit", 100}, {"window", "1m"}}},
      {.key = "premium",
       .type = FieldType::table,
       .description = "default tier",
       .default_value = {{"limit", 1000}, {"window", "1m"}}},
  }};
  for (const auto& [name, value] : configured.items()) {
    if (name != "basic" && name != "premium") {
      schema.fields.push_back({.key = name, .type = FieldType::table, .description = "tier"});
    }
  }
  return schema;
}

ConfigSchema plugins_schema(const json& configured) {
  ConfigSchema schema{{
      {.key = "dir",
       .type = FieldType::string,
       .description = "where plugins are searched",
       .default_value = "build/plugins"},
  }};
  for (const auto& [name, value] : configured.items()) {
    if (name != "dir" && value.is_object()) {
      schema.fields.push_back({.key = name, .type = FieldType::table, .description = "plugin"});
    }
  }
  return schema;
}

}  // namespace portico::config
