// The webhook event types of CONTRACT.md and the filters an endpoint subscribes with.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "portico/problem.hpp"

namespace portico::webhooks {

inline constexpr std::string_view kTestEventType = "webhook.test";
inline constexpr std::string_view kEndpointDisabledEventType = "webhook.endpoint_disabled";

// Every type Portico emits: the contract's eight plus webhook.endpoint_disabled (sent to a
// partner's other endpoints when one is disabled after 5 days of failures).
inline constexpr std::array<std::string_view, 9> kEventTypes = {
    "order.created",   "order.status_changed", "order.cancelled",
    "order.shipped",   "order.delivered",      "inventory.changed",
    "product.updated", kTestEventType,         kEndpointDisabledEventType,
};

bool is_known_type(std::string_view type);

// A filter is an exact known type ("order.shipped"), a prefix wildcard that matches at least one
// known type ("order.*", "webhook.*"), or "*" (everything). Matching is case-sensitive.
bool is_valid_filter(std::string_view filter);

// One FieldError per problem, named "<field>[i]" ("events[1]") — or "<field>" for an empty list —
// with a did-you-mean hint where a known type or pattern is close:
//   events[0]: unknown event type 'order.create'; did you mean 'order.created'?
// Empty when every filter is valid. Duplicates are harmless and accepted.
std::vector<FieldError> validate_filters(const std::vector<std::string>& filters,
                                         const std::string& field = "events");

// Whether `type` is selected by the filter / by any of the filters. Says nothing about
// webhook.test, which the delivery service sends to the endpoint asked regardless of filters.
bool matches(std::string_view filter, std::string_view type);
bool matches(const std::vector<std::string>& filters, std::string_view type);

}  // namespace portico::webhooks
