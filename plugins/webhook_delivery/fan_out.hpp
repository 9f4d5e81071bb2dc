// Which endpoints an outbox event goes to (pure; the engine reads the endpoints and writes the
// delivery rows in one transaction):
//   * only enabled endpoints that existed when the event happened (created_at, to the second);
//   * the event's partner's endpoints, or every partner's for a catalog event (partner_id '');
//   * whose filters match the type (event_types.hpp `matches`), for the contract's types;
//   * webhook.test: only the endpoint named by the subject, whatever its filters;
//   * webhook.endpoint_disabled: every OTHER enabled endpoint of the partner, whatever its
//     filters (the partner must hear that one of its endpoints was switched off).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "portico/event.hpp"
#include "portico/sdk/time.hpp"

namespace portico::webhook_delivery {

struct FanOutEndpoint {
  std::string id;
  std::string partner_id;
  std::vector<std::string> filters;  // the endpoint's `events`
  sdk::Timestamp created_at{};       // whole seconds (events carry whole seconds)
};

class EndpointDirectory {
 public:
  explicit EndpointDirectory(std::vector<FanOutEndpoint> enabled);
  EndpointDirectory(const EndpointDirectory&) = delete;  // holds pointers into itself
  EndpointDirectory& operator=(const EndpointDirectory&) = delete;
  std::vector<const FanOutEndpoint*> targets(const StoredEvent& event) const;
  bool empty() const { return endpoints_.empty(); }

 private:
  std::vector<FanOutEndpoint> endpoints_;
  std::unordered_map<std::string, std::vector<const FanOutEndpoint*>> by_partner_;
  std::unordered_map<std::string, const FanOutEndpoint*> by_id_;
};

// Builds a FanOutEndpoint from its stored columns; a malformed `events` JSON matches nothing and
// an unreadable created_at counts as "always existed".
FanOutEndpoint fan_out_endpoint(std::string id, std::string partner_id,
                                const std::string& events_json, const std::string& created_at);

}  // namespace portico::webhook_delivery
