// What a reload changes, in words: the lines naming start-up-only settings that refuse a reload,
// and the lines of ReloadResult::changes for the config sections and the plugins. Only compares
// and describes; reload.cpp decides and installs.
#include "core/app/reload_changes.hpp"

#include <utility>

#include "core/config/units.hpp"

namespace portico::app {
namespace {

using config::format_duration;

std::string tier_text(const config::TierConfig& tier) {
  std::string text = std::to_string(tier.limit) + " per " + format_duration(tier.window.count());
  if (tier.burst > 0) text += " (burst " + std::to_string(tier.burst) + ")";
  return text;
}

std::string tls_text(const std::optional<config::TlsConfig>& tls) {
  if (!tls) return "no TLS listener";
  return tls->listen.to_string() + " with " + tls->cert + " and " + tls->key;
}

std::string list_text(const std::vector<std::string>& items) {
  std::string text = "[";
  for (const auto& item : items) text += (text.size() > 1 ? ", " : "") + item;
  return text + "]";
}

// Collects "key: before → after" comparisons of one config against another.
class Differences {
 public:
  explicit Differences(std::string prefix) : prefix_(std::move(prefix)) {}

  template <class T>
  void shown(const std::string& key, const T& before, const T& after, std::string before_text,
             std::string after_text) {
    if (!(before == after)) add(key, before_text, after_text);
  }
  template <class T>
  void hidden(const std::string& key, const T& before, const T& after) {
    if (!(before == after)) lines_.push_back(prefix_ + key + ": " + hidden_text_);
  }
  void set_wording(std::string before, std::string after, std::string end, std::string hidden) {
    before_ = std::move(before);
    how_after_ = std::move(after);
    end_ = std::move(end);
    hidden_text_ = std::move(hidden);
  }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  void add(const std::string& key, const std::string& before, const std::string& after) {
    lines_.push_back(prefix_ + key + ": " + before_ + before + how_after_ + after + end_);
  }

  std::string prefix_;
  std::string before_;
  std::string how_after_ = " → ";
  std::string end_;
  std::string hidden_text_ = "changed";
  std::vector<std::string> lines_;
};

std::string ms(std::chrono::milliseconds value) {
  return format_duration(value.count());
}

}  // namespace

std::vector<std::string> restart_only_changes(const config::Config& running,
                                              const config::Config& next) {
  Differences d(next.file + " ");
  d.set_wording("needs a restart to change (running with ", ", the config says ", ")",
                "needs a restart to change (value not shown)");
  const auto& a = running.server;
  const auto& b = next.server;
  d.shown("server.listen", a.listen, b.listen, a.listen.to_string(), b.listen.to_string());
  d.shown("server.threads", a.threads, b.threads, std::to_string(a.threads),
          std::to_string(b.threads));
  d.shown("server.max_body", a.max_body, b.max_body, config::format_size(a.max_body),
          config::format_size(b.max_body));
  d.shown("server.max_header", a.max_header, b.max_header, config::format_size(a.max_header),
          config::format_size(b.max_header));
  d.shown("server.header_timeout", a.header_timeout, b.header_timeout, ms(a.header_timeout),
          ms(b.header_timeout));
  d.shown("server.idle_timeout", a.idle_timeout, b.idle_timeout, ms(a.idle_timeout),
          ms(b.idle_timeout));
  d.shown("server.shutdown_timeout", a.shutdown_timeout, b.shutdown_timeout, ms(a.shutdown_timeout),
          ms(b.shutdown_timeout));
  d.shown("server.max_json_depth", a.max_json_depth, b.max_json_depth,
          std::to_string(a.max_json_depth), std::to_string(b.max_json_depth));
  d.shown("server.workers", a.workers, b.workers, std::to_string(a.workers),
          std::to_string(b.workers));
  d.shown("server.handler_timeout", a.handler_timeout, b.handler_timeout, ms(a.handler_timeout),
          ms(b.handler_timeout));
  d.shown("server.batch_sends", a.batch_sends, b.batch_sends, a.batch_sends ? "true" : "false",
          b.batch_sends ? "true" : "false");
  d.shown("server.batch_reads", a.batch_reads, b.batch_reads, a.batch_reads ? "true" : "false",
          b.batch_reads ? "true" : "false");
  d.shown("server.yield_below_connections", a.yield_below_connections, b.yield_below_connections,
          std::to_string(a.yield_below_connections), std::to_string(b.yield_below_connections));
  d.shown("server.tls", a.tls, b.tls, tls_text(a.tls), tls_text(b.tls));
  d.shown("admin.listen", running.admin.listen, next.admin.listen, running.admin.listen.to_string(),
          next.admin.listen.to_string());
  d.shown("storage.backend", running.storage.backend, next.storage.backend, running.storage.backend,
          next.storage.backend);
  d.shown("storage.path", running.storage.path, next.storage.path, running.storage.path,
          next.storage.path);
  d.hidden("storage.url", running.storage.url, next.storage.url);  // may carry a password
  d.shown("storage.busy_timeout", running.storage.busy_timeout, next.storage.busy_timeout,
          ms(running.storage.busy_timeout), ms(next.storage.busy_timeout));
  d.shown("logging.dir", running.logging.dir, next.logging.dir, running.logging.dir,
          next.logging.dir);
  d.shown("logging.retention_days", running.logging.retention_days, next.logging.retention_days,
          std::to_string(running.logging.retention_days),
          std::to_string(next.logging.retention_days));
  d.hidden("security.key_secret", running.security.key_secret, next.security.key_secret);
  // The data keys are read once at start-up (open_data_keys); plugins carried over keep theirs.
  d.hidden("security.data_key", running.security.data_key, next.security.data_key);
  d.shown("security.data_key_file", running.security.data_key_file, next.security.data_key_file,
          running.security.data_key_file, next.security.data_key_file);
  d.hidden("security.previous_data_keys", running.security.previous_data_keys,
           next.security.previous_data_keys);
  d.shown("monitoring.ops_webhook_url", running.monitoring.ops_webhook_url,
          next.monitoring.ops_webhook_url, running.monitoring.ops_webhook_url,
          next.monitoring.ops_webhook_url);
  d.hidden("monitoring.ops_webhook_secret", running.monitoring.ops_webhook_secret,
           next.monitoring.ops_webhook_secret);
  return d.take();
}

std::vector<std::string> config_changes(const config::Config& running, const config::Config& next) {
  Differences d("");
  std::vector<std::string> lines;
  for (const auto& [name, tier] : next.tiers) {
    auto it = running.tiers.find(name);
    if (it == running.tiers.end()) {
      lines.push_back("tiers." + name + ": added (" + tier_text(tier) + ")");
    } else if (!(it->second == tier)) {
      lines.push_back("tiers." + name + ": " + tier_text(it->second) + " → " + tier_text(tier));
    }
  }
  for (const auto& [name, tier] : running.tiers) {
    if (!next.tiers.contains(name)) lines.push_back("tiers." + name + ": removed");
  }
  const auto& a = running.security;
  const auto& b = next.security;
  d.shown("security.client_ip_limit", a.client_ip_limit, b.client_ip_limit,
          std::to_string(a.client_ip_limit), std::to_string(b.client_ip_limit));
  d.shown("security.client_ip_window", a.client_ip_window, b.client_ip_window,
          ms(a.client_ip_window), ms(b.client_ip_window));
  d.shown("security.auth_failure_limit", a.auth_failure_limit, b.auth_failure_limit,
          std::to_string(a.auth_failure_limit), std::to_string(b.auth_failure_limit));
  d.shown("security.auth_failure_window", a.auth_failure_window, b.auth_failure_window,
          ms(a.auth_failure_window), ms(b.auth_failure_window));
  d.shown("security.lockout", a.lockout, b.lockout, ms(a.lockout), ms(b.lockout));
  d.shown("server.trusted_proxies", running.server.trusted_proxies, next.server.trusted_proxies,
          list_text(running.server.trusted_proxies), list_text(next.server.trusted_proxies));
  d.hidden("admin.token", running.admin.token, next.admin.token);
  d.shown("logging.level", running.logging.level, next.logging.level, running.logging.level,
          next.logging.level);
  d.shown("plugins.dir", running.plugins_dir, next.plugins_dir, running.plugins_dir,
          next.plugins_dir);
  for (auto& line : d.take()) lines.push_back(std::move(line));
  return lines;
}

const pipeline::ActivePlugin* find_plugin(const pipeline::Snapshot& snapshot,
                                          const std::string& name) {
  for (const auto& plugin : snapshot.plugins) {
    if (plugin.loaded.info.name == name) return &plugin;
  }
  return nullptr;
}

namespace {

std::string describe(const plugin_host::LoadedPlugin& loaded) {
  return loaded.info.name + " " + loaded.info.version + " (" + loaded.file.string() + ")";
}

}  // namespace

// What happened to the plugins between two snapshots, one line each.
std::vector<std::string> plugin_changes(const pipeline::Snapshot& before,
                                        const pipeline::Snapshot& after) {
  std::vector<std::string> lines;
  for (const auto& plugin : after.plugins) {
    const auto* old = find_plugin(before, plugin.loaded.info.name);
    if (!old) {
      lines.push_back("plugin added: " + describe(plugin.loaded));
      continue;
    }
    if (old->loaded.plugin == plugin.loaded.plugin) continue;  // carried over as it was
    const auto& name = plugin.loaded.info.name;
    if (old->loaded.info.version != plugin.loaded.info.version) {
      lines.push_back("plugin upgraded: " + name + " " + old->loaded.info.version + " → " +
                      plugin.loaded.info.version + " (" + plugin.loaded.file.string() + ")");
    } else if (old->loaded.file != plugin.loaded.file ||
               !(old->loaded.identity == plugin.loaded.identity)) {
      lines.push_back("plugin reloaded from a new file: " + describe(plugin.loaded));
    } else {
      lines.push_back("plugin settings changed: " + name + " (new instance)");
    }
  }
  for (const auto& plugin : before.plugins) {
    if (!find_plugin(after, plugin.loaded.info.name)) {
      lines.push_back("plugin removed: " + describe(plugin.loaded));
    }
  }
  return lines;
}

}  // namespace portico::app
