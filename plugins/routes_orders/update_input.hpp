// The bodies of the routes that change an existing order, checked in full before anything is
// read or written, every problem collected as a FieldError:
//   PATCH /v1/orders/{id}                  {status?: "cancelled", metadata?: {...}}
//   POST /admin/v1/orders/{id}/status      {status}
//   POST /admin/v1/orders/{id}/shipment    {carrier, tracking_number, events?: [{status,
//                                           description?, location?, at?}]}
// Pure: the checks are unit-tested without a database.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metadata.hpp"
#include "order_records.hpp"
#include "portico/problem.hpp"
#include "portico/sdk/fields.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/time.hpp"

namespace portico::routes_orders {

inline constexpr std::size_t kMaxCarrierLength = 100;
inline constexpr std::size_t kMaxTrackingNumberLength = 100;
inline constexpr std::size_t kMaxTrackingEvents = 100;
inline constexpr std::size_t kMaxTrackingStatusLength = 64;
inline constexpr std::size_t kMaxTrackingDescriptionLength = 500;
inline constexpr std::size_t kMaxTrackingLocationLength = 200;

// The request body as a JSON object, or a 400 saying what is wrong with it.

inline const char* const kStatusChoices =
    "must be one of \"pending\", \"confirmed\", \"shipped\", \"delivered\", \"cancelled\"";

// --- PATCH /v1/orders/{id} ------------------------------------------------------------------

struct OrderPatch {
  // A status name (is_status); whether the move is allowed is the route's question (409).
  std::optional<std::string> status;
  // Checked with check_metadata(…, true): null values delete their key.
  std::optional<nlohmann::json> metadata;
};

inline OrderPatch read_order_patch(const nlohmann::json& body, std::vector<FieldError>& errors) {
  OrderPatch patch;
  if (!body.is_object()) {
    errors.push_back({"body", "must be an object"});
    return patch;
  }
  if (body.empty()) {
    errors.push_back({"body", "must set status or metadata (or both)"});
    return patch;
  }
  sdk::FieldReader reader(body, "", errors);
  reader.refuse_unknown({"status", "metadata"});
  if (const nlohmann::json* status = reader.member("status")) {
    if (!status->is_string()) {
      reader.fail("status", "must be a string: \"cancelled\" cancels the order");
    } else if (!is_status(status->get_ref<const std::string&>())) {
      reader.fail("status", "must be \"cancelled\" (the only status a partner sets)");
    } else {
      patch.status = status->get<std::string>();
    }
  }
  if (const nlohmann::json* metadata = reader.member("metadata")) {
    const std::size_t before = errors.size();
    check_metadata(*metadata, true, errors);
    if (errors.size() == before) patch.metadata = *metadata;
  }
  return patch;
}

// The problem with the metadata an update would leave, if any (at most kMaxMetadataKeys keys).
inline std::optional<FieldError> merged_metadata_problem(const nlohmann::json& merged) {
  if (merged.size() <= kMaxMetadataKeys) return std::nullopt;
  return FieldError{"metadata", "would have " + std::to_string(merged.size()) +
                                    " keys after this update; at most " +
                                    std::to_string(kMaxMetadataKeys) +
                                    " are allowed (set a key to null to remove it)"};
}

// --- POST /admin/v1/orders/{id}/status ------------------------------------------------------

struct StatusUpdate {
  std::string status;
};

inline StatusUpdate read_status_update(const nlohmann::json& body,
                                       std::vector<FieldError>& errors) {
  StatusUpdate update;
  if (!body.is_object()) {
    errors.push_back({"body", "must be an object"});
    return update;
  }
  sdk::FieldReader reader(body, "", errors);
  reader.refuse_unknown({"status"});
  const nlohmann::json* status = reader.member("status");
  if (!status || status->is_null()) {
    reader.fail("status", "is required");
  } else if (!status->is_string() || !is_status(status->get_ref<const std::string&>())) {
    reader.fail("status", kStatusChoices);
  } else {
    update.status = status->get<std::string>();
  }
  return update;
}

// --- POST /admin/v1/orders/{id}/shipment ----------------------------------------------------

struct ShipmentUpdate {
  std::string carrier;
  std::string tracking_number;
  // The tracking events as given, each {status, description, location, at} (absent description
  // and location are null; an absent `at` is null until complete_tracking_events() fills it).
  // nullopt: the body had no `events` (a new shipment starts with none; an update keeps them).
  std::optional<nlohmann::json> events;
};

inline ShipmentUpdate read_shipment_update(const nlohmann::json& body,
                                           std::vector<FieldError>& errors) {
  ShipmentUpdate update;
  if (!body.is_object()) {
    errors.push_back({"body", "must be an object"});
    return update;
  }
  sdk::FieldReader reader(body, "", errors);
  reader.refuse_unknown({"carrier", "tracking_number", "events"});
  update.carrier = reader.text("carrier", kMaxCarrierLength, true).value_or("");
  update.tracking_number =
      reader.text("tracking_number", kMaxTrackingNumberLength, true).value_or("");
  const nlohmann::json* events = reader.member("events");
  if (!events || events->is_null()) return update;
  if (!events->is_array()) {
    reader.fail("events", "must be an array of tracking events");
    return update;
  }
  if (events->size() > kMaxTrackingEvents) {
    reader.fail("events", "must have at most " + std::to_string(kMaxTrackingEvents) +
                              " entries, has " + std::to_string(events->size()));
    return update;
  }
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < events->size(); ++i) {
    const nlohmann::json& event = (*events)[i];
    const std::string at = "events[" + std::to_string(i) + "]";
    if (!event.is_object()) {
      errors.push_back({at, "must be an object"});
      continue;
    }
    sdk::FieldReader item(event, at + ".", errors);
    item.refuse_unknown({"status", "description", "location", "at"});
    auto status = item.text("status", kMaxTrackingStatusLength, true);
    auto description = item.text("description", kMaxTrackingDescriptionLength, false, true);
    auto location = item.text("location", kMaxTrackingLocationLength, false);
    std::optional<std::string> when;
    if (const nlohmann::json* given = item.member("at"); given && !given->is_null()) {
      std::optional<sdk::Timestamp> parsed;
      if (given->is_string()) parsed = sdk::parse_timestamp(given->get_ref<const std::string&>());
      if (parsed) {
        when = sdk::format_timestamp(*parsed);
      } else {
        item.fail("at", "must be an RFC 3339 time, e.g. 2026-11-26T10:00:00Z");
      }
    }
    nlohmann::json entry;
    entry["status"] = status.value_or("");
    entry["description"] = description ? nlohmann::json(*description) : nlohmann::json(nullptr);
    entry["location"] = location ? nlohmann::json(*location) : nlohmann::json(nullptr);
    entry["at"] = when ? nlohmann::json(*when) : nlohmann::json(nullptr);
    out.push_back(std::move(entry));
  }
  update.events = std::move(out);
  return update;
}

// Gives every event without `at` a time: the `at` of the previously stored event at the same
// position when that one says the same (so posting the same shipment again changes nothing),
// else `now`.
inline nlohmann::json complete_tracking_events(nlohmann::json events,
                                               const nlohmann::json& previous,
                                               const std::string& now) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    nlohmann::json& event = events[i];
    if (!event["at"].is_null()) continue;
    event["at"] = now;
    if (!previous.is_array() || i >= previous.size()) continue;
    const nlohmann::json& old = previous[i];
    if (!old.is_object()) continue;
    auto member = [&old](const char* name) {
      auto it = old.find(name);
      return it == old.end() ? nlohmann::json() : *it;
    };
    if (member("status") == event["status"] && member("description") == event["description"] &&
        member("location") == event["location"] && member("at").is_string()) {
      event["at"] = member("at");
    }
  }
  return events;
}

}  // namespace portico::routes_orders
