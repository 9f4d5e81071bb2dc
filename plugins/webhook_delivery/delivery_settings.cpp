#include "plugins/webhook_delivery/delivery_settings.hpp"

namespace portico::webhook_delivery {

DeliverySettings settings_from_config(const nlohmann::json& config) {
  DeliverySettings settings;
  settings.allow_private_targets =
      config.value("allow_private_targets", settings.allow_private_targets);
  settings.max_in_flight_per_endpoint =
      config.value("max_in_flight_per_endpoint", settings.max_in_flight_per_endpoint);
  settings.poll_interval =
      std::chrono::milliseconds(config.value("poll_interval", settings.poll_interval.count()));
  settings.client_threads = config.value("client_threads", settings.client_threads);
  settings.lease = std::chrono::milliseconds(config.value("lease", settings.lease.count()));
  if (auto it = config.find("ca_file");
      it != config.end() && it->is_string() && !it->get<std::string>().empty()) {
    settings.ca_file = it->get<std::string>();
  }
  return settings;
}

}  // namespace portico::webhook_delivery
