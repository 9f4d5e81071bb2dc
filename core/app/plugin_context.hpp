// The Host a plugin sees: its validated settings, the shared database and outbox, a logger named
// after it, and the gateway's clock.
#pragma once

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <string>

#include "portico/host.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/secret_box.hpp"

namespace portico::app {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

class PluginContext final : public Host {
 public:
  PluginContext(std::string name, nlohmann::json settings, std::shared_ptr<Database> db,
                std::shared_ptr<Outbox> outbox, std::shared_ptr<CredentialDirectory> credentials,
                WallClock clock, std::shared_ptr<const sdk::SecretBox> secrets,
                std::shared_ptr<Executor> workers);

  // The plugin this Host was given to: a task it posts to workers() keeps it — and so its
  // library — alive until the task is destroyed, even when a reload dropped it meanwhile.
  void set_owner(std::weak_ptr<Plugin> owner) { workers_.owner = std::move(owner); }

  const std::string& plugin_name() const override { return name_; }
  const nlohmann::json& config() const override { return settings_; }
  Database& database() override { return *db_; }
  Outbox& outbox() override { return *outbox_; }
  Log& log() override { return log_; }
  CredentialDirectory& credentials() override { return *credentials_; }
  std::chrono::system_clock::time_point now() const override { return clock_(); }
  std::string seal_secret(std::string_view plaintext) override;
  std::string open_secret(std::string_view sealed) override;
  bool sealed_with_current_key(std::string_view stored) const override;
  Executor& workers() override { return workers_; }

 private:
  class SpdLog final : public Log {
   public:
    explicit SpdLog(std::string name);
    void write(LogLevel level, std::string_view message) override;

   private:
    std::string name_;
  };

  std::string name_;
  nlohmann::json settings_;
  std::shared_ptr<Database> db_;
  std::shared_ptr<Outbox> outbox_;
  std::shared_ptr<CredentialDirectory> credentials_;
  WallClock clock_;
  std::shared_ptr<const sdk::SecretBox> secrets_;  // null: no data key configured
  // The worker pool as this plugin posts to it (see set_owner).
  class PluginWorkers final : public Executor {
   public:
    explicit PluginWorkers(std::shared_ptr<Executor> pool) : pool(std::move(pool)) {}
    void post(std::function<void()> task) override;
    std::shared_ptr<Executor> pool;
    std::weak_ptr<Plugin> owner;
  };
  PluginWorkers workers_;
  SpdLog log_;
};

}  // namespace portico::app
