#include "plugins/webhook_delivery/fan_out.hpp"

#include <nlohmann/json.hpp>

#include "webhooks_common/event_types.hpp"

namespace portico::webhook_delivery {

EndpointDirectory::EndpointDirectory(std::vector<FanOutEndpoint> enabled)
    : endpoints_(std::move(enabled)) {
  for (const auto& endpoint : endpoints_) {
    by_partner_[endpoint.partner_id].push_back(&endpoint);
    by_id_[endpoint.id] = &endpoint;
  }
}

std::vector<const FanOutEndpoint*> EndpointDirectory::targets(const StoredEvent& event) const {
  std::vector<const FanOutEndpoint*> found;
  if (event.type == webhooks::kTestEventType) {
    auto it = by_id_.find(event.subject);
    if (it != by_id_.end() && it->second->partner_id == event.partner_id) {
      found.push_back(it->second);
    }
    return found;
  }
  const auto happened = sdk::parse_timestamp(event.created_at);
  auto existed = [&](const FanOutEndpoint& endpoint) {
    return !happened || endpoint.created_at <= *happened;
  };
  if (event.type == webhooks::kEndpointDisabledEventType) {
    auto it = by_partner_.find(event.partner_id);
    if (event.partner_id.empty() || it == by_partner_.end()) return found;
    for (const auto* endpoint : it->second) {
      if (endpoint->id != event.subject && existed(*endpoint)) found.push_back(endpoint);
    }
    return found;
  }
  if (!webhooks::is_known_type(event.type)) return found;  // not a webhook event
  auto consider = [&](const FanOutEndpoint& endpoint) {
    if (existed(endpoint) && webhooks::matches(endpoint.filters, event.type)) {
      found.push_back(&endpoint);
    }
  };
  if (event.partner_id.empty()) {
    for (const auto& endpoint : endpoints_) consider(endpoint);
  } else if (auto it = by_partner_.find(event.partner_id); it != by_partner_.end()) {
    for (const auto* endpoint : it->second) consider(*endpoint);
  }
  return found;
}

FanOutEndpoint fan_out_endpoint(std::string id, std::string partner_id,
                                const std::string& events_json, const std::string& created_at) {
  FanOutEndpoint endpoint;
  endpoint.id = std::move(id);
  endpoint.partner_id = std::move(partner_id);
  auto filters = nlohmann::json::parse(events_json, nullptr, false);
  if (filters.is_array()) {
    for (const auto& filter : filters) {
      if (filter.is_string()) endpoint.filters.push_back(filter.get<std::string>());
    }
  }
  if (auto created = sdk::parse_timestamp(created_at)) {
    endpoint.created_at = std::chrono::floor<std::chrono::seconds>(*created);
  }
  return endpoint;
}

}  // namespace portico::webhook_delivery
