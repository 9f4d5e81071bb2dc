// The delivery service's settings: the [plugins.webhook_delivery] keys (validated by the plugin's
// schema before they get here) plus internal limits that tests may tighten.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace portico::webhook_delivery {

struct DeliverySettings {
  // --- config keys ---
  bool allow_private_targets = false;  // deliver to loopback / private / link-local addresses
  int max_in_flight_per_endpoint = 8;  // requests of one endpoint on the wire at once
  std::optional<std::string> ca_file;  // PEM of trusted CAs instead of the system store
  std::chrono::milliseconds poll_interval{100};  // outbox and due-row polling when idle
  int client_threads = 1;                        // HTTP client I/O threads
  // How long a claimed delivery is this node's alone (webhook_deliveries.lease_until): other
  // gateway nodes on the database skip it meanwhile; after a crash it goes out again from another
  // node once this has passed. Renewed every lease/3 while a send is on the wire, so a slow send
  // keeps it.
  std::chrono::milliseconds lease{10000};

  // --- internal ---
  int fan_out_batch = 500;                           // outbox events per fan-out transaction
  std::chrono::milliseconds request_timeout{15000};  // CONTRACT: success = 2xx within 15 s
  std::size_t max_in_flight_total = 1024;            // across all endpoints
  // Every endpoint is re-queried this often (real time), so rows written by others (a
  // redeliver, a re-enabled endpoint) are noticed without any signal.
  std::chrono::milliseconds sweep_interval{1000};
  // How long stop() lets in-flight requests finish before abandoning them (they stay pending).
  std::chrono::milliseconds stop_grace{3000};
  // Retry jitter source, uniform in [0, 1); empty = a random generator. Tests pin it.
  std::function<double()> jitter;
};

// The plugin's validated config table (durations in ms) as settings.
DeliverySettings settings_from_config(const nlohmann::json& config);

}  // namespace portico::webhook_delivery
