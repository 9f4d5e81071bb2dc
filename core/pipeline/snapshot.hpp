// The immutable pipeline snapshot: config, loaded plugins, route table and stages. A request keeps
// the snapshot it started with; a reload builds a new one and swaps it in atomically.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "core/pipeline/router.hpp"
#include "core/pipeline/stage.hpp"
#include "core/plugin_host/plugin_loader.hpp"
#include "portico/plugin.hpp"

namespace portico::pipeline {

struct Snapshot {
  std::uint64_t generation = 0;
  std::shared_ptr<const config::Config> config;
  // Declared before `plugins`, so each plugin is destroyed before the Host it was given.
  std::vector<std::shared_ptr<Host>> hosts;
  std::vector<plugin_host::LoadedPlugin> plugins;  // highest priority first; keeps code loaded
  std::vector<AuthScheme*> auth_schemes;           // in priority order
  Router router;
  std::vector<std::unique_ptr<Stage>> stages;
  // Told about exceptions that became a 500, for the error log.
  std::function<void(const Request&, std::string_view what)> on_internal_error;

  // Runs the stages; never throws. Always sets X-Request-Id.
  Response handle(Request& request) const;
};

// The standard partner pipeline: route match → authenticate → scope → handler.
std::vector<std::unique_ptr<Stage>> standard_stages();

class SnapshotHolder {
 public:
  std::shared_ptr<const Snapshot> load() const { return current_.load(std::memory_order_acquire); }
  void store(std::shared_ptr<const Snapshot> next) {
    current_.store(std::move(next), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

}  // namespace portico::pipeline
