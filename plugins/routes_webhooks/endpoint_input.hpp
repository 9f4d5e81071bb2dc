// The bodies of the endpoint routes, checked in full before anything is written, every problem
// collected as a FieldError so one 400 lists them all:
//   POST  /v1/webhooks       {url, events, description?, ed25519?: bool}
//   PATCH /v1/webhooks/{id}  {url?, events?, description?, status?: "enabled"|"disabled",
//                             ed25519?: bool}
// Unknown members are refused ("is not a known field"), so a misspelt optional field is not
// silently dropped. Whether the URL is an acceptable target (SSRF guard, DNS) and whether the
// filters name known event types are asked of the injected EndpointChecks — the plugin passes
// webhooks_common's parse_target / resolve_and_check / validate_filters — so the shape checks
// here stay pure and unit-tested without a resolver.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/problem.hpp"
#include "portico/sdk/fields.hpp"
#include "portico/sdk/problems.hpp"

namespace portico::routes_webhooks {

inline constexpr std::size_t kMaxUrlLength = 2048;  // = webhooks::kMaxTargetLength
inline constexpr std::size_t kMaxDescriptionLength = 500;
inline constexpr std::size_t kMaxFilters = 32;
inline constexpr std::size_t kMaxFilterLength = 64;

inline constexpr const char* kEnabled = "enabled";
inline constexpr const char* kDisabled = "disabled";

// Whether `url` may be a webhook target: nullopt when it may, else why not (one sentence).
using UrlCheck = std::function<std::optional<std::string>(const std::string& url)>;
// The problems of an endpoint's filter list, named "<field>[i]" (webhooks::validate_filters).
using FilterCheck = std::function<std::vector<FieldError>(const std::vector<std::string>& filters,
                                                          const std::string& field)>;

struct EndpointChecks {
  UrlCheck url;
  FilterCheck events;
};

struct EndpointCreate {
  std::string url;
  std::vector<std::string> events;  // valid, duplicates removed, in the order given
  std::string description;
  bool ed25519 = false;
};

struct EndpointPatch {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> description;  // null in the body clears it: ""
  std::optional<std::string> status;       // kEnabled | kDisabled
  std::optional<bool> ed25519;             // true: add a v1a key pair (if none); false: remove it
};

// The guard's detailed refusal (for the operator log, never a partner), with the hint naming this
// plugin's own setting: the shared guard suggests plugins.webhook_delivery.allow_private_targets
// (the delivery-time check), but what lets an endpoint be created is
// plugins.routes_webhooks.allow_private_targets.
inline std::string with_own_config_hint(std::string message) {
  static constexpr std::string_view kTheirs = "plugins.webhook_delivery.allow_private_targets";
  static constexpr std::string_view kOurs = "plugins.routes_webhooks.allow_private_targets";
  for (std::size_t at = message.find(kTheirs); at != std::string::npos;
       at = message.find(kTheirs, at + kOurs.size())) {
    message.replace(at, kTheirs.size(), kOurs);
  }
  return message;
}

// The request body as a JSON object, or a 400 saying what is wrong with it.

namespace detail {

// `url`: a one-line string, then the target check.
inline std::optional<std::string> read_url(const sdk::FieldReader& reader, bool required,
                                           const EndpointChecks& checks) {
  auto url = reader.text("url", kMaxUrlLength, required);
  if (!url) return std::nullopt;
  if (url->empty()) {
    reader.fail("url", "must not be empty");
    return std::nullopt;
  }
  if (checks.url) {
    if (auto refusal = checks.url(*url)) {
      reader.fail("url", std::move(*refusal));
      return std::nullopt;
    }
  }
  return url;
}

// `events`: a non-empty array of filter strings, then the filter check; duplicates dropped.
inline std::optional<std::vector<std::string>> read_events(const sdk::FieldReader& reader,
                                                           bool required,
                                                           const EndpointChecks& checks) {
  const nlohmann::json* value = reader.member("events");
  if (!value || value->is_null()) {
    if (required) {
      reader.fail("events",
                  "is required: list the event types to receive, e.g. [\"order.*\", "
                  "\"inventory.changed\"] ([\"*\"] for all)");
    }
    return std::nullopt;
  }
  if (!value->is_array()) {
    reader.fail("events", "must be an array of event types or patterns, e.g. [\"order.*\"]");
    return std::nullopt;
  }
  if (value->size() > kMaxFilters) {
    reader.fail("events", "must have at most " + std::to_string(kMaxFilters) + " entries, has " +
                              std::to_string(value->size()));
    return std::nullopt;
  }
  std::vector<std::string> filters;
  bool shaped = true;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const nlohmann::json& entry = (*value)[i];
    const std::string name = "events[" + std::to_string(i) + "]";
    if (!entry.is_string()) {
      reader.fail(name, "must be a string");
      shaped = false;
    } else if (entry.get_ref<const std::string&>().size() > kMaxFilterLength) {
      reader.fail(name, "must be at most " + std::to_string(kMaxFilterLength) + " characters");
      shaped = false;
    } else {
      filters.push_back(entry.get<std::string>());
    }
  }
  if (!shaped) return std::nullopt;
  std::vector<FieldError> problems;
  if (checks.events) {
    problems = checks.events(filters, reader.prefix() + "events");
  } else if (filters.empty()) {
    problems.push_back({reader.prefix() + "events", "must list at least one event type"});
  }
  if (!problems.empty()) {
    for (auto& problem : problems) reader.errors().push_back(std::move(problem));
    return std::nullopt;
  }
  std::vector<std::string> unique;
  for (auto& filter : filters) {
    if (std::find(unique.begin(), unique.end(), filter) == unique.end()) {
      unique.push_back(std::move(filter));
    }
  }
  return unique;
}

inline std::optional<bool> read_flag(const sdk::FieldReader& reader, const std::string& field) {
  const nlohmann::json* value = reader.member(field);
  if (!value || value->is_null()) return std::nullopt;
  if (!value->is_boolean()) {
    reader.fail(field, "must be true or false");
    return std::nullopt;
  }
  return value->get<bool>();
}

}  // namespace detail

// POST /v1/webhooks. The result is only meaningful when nothing was added to `errors`.
inline EndpointCreate read_endpoint_create(const nlohmann::json& body,
                                           std::vector<FieldError>& errors,
                                           const EndpointChecks& checks) {
  EndpointCreate input;
  if (!body.is_object()) {
    errors.push_back({"body", "must be an object"});
    return input;
  }
  sdk::FieldReader reader(body, "", errors);
  reader.refuse_unknown({"url", "events", "description", "ed25519"});
  input.url = detail::read_url(reader, true, checks).value_or("");
  input.events = detail::read_events(reader, true, checks).value_or(std::vector<std::string>{});
  input.description = reader.text("description", kMaxDescriptionLength, false).value_or("");
  input.ed25519 = detail::read_flag(reader, "ed25519").value_or(false);
  return input;
}

// PATCH /v1/webhooks/{id}. The result is only meaningful when nothing was added to `errors`.
inline EndpointPatch read_endpoint_patch(const nlohmann::json& body,
                                         std::vector<FieldError>& errors,
                                         const EndpointChecks& checks) {
  EndpointPatch patch;
  if (!body.is_object()) {
    errors.push_back({"body", "must be an object"});
    return patch;
  }
  if (body.empty()) {
    errors.push_back(
        {"body", "must set at least one of url, events, description, status, ed25519"});
    return patch;
  }
  sdk::FieldReader reader(body, "", errors);
  reader.refuse_unknown({"url", "events", "description", "status", "ed25519"});
  if (const nlohmann::json* url = reader.member("url"); url && url->is_null()) {
    reader.fail("url", "cannot be removed; give the new URL");
  } else {
    patch.url = detail::read_url(reader, false, checks);
  }
  if (const nlohmann::json* events = reader.member("events"); events && events->is_null()) {
    reader.fail("events", "cannot be removed; give the new list ([\"*\"] for all)");
  } else {
    patch.events = detail::read_events(reader, false, checks);
  }
  if (const nlohmann::json* description = reader.member("description")) {
    if (description->is_null()) {
      patch.description = "";
    } else {
      patch.description = reader.text("description", kMaxDescriptionLength, false);
    }
  }
  if (const nlohmann::json* status = reader.member("status"); status && !status->is_null()) {
    if (status->is_string() && (*status == kEnabled || *status == kDisabled)) {
      patch.status = status->get<std::string>();
    } else {
      reader.fail("status", "must be \"enabled\" or \"disabled\"");
    }
  } else if (status) {
    reader.fail("status", "must be \"enabled\" or \"disabled\"");
  }
  patch.ed25519 = detail::read_flag(reader, "ed25519");
  return patch;
}

}  // namespace portico::routes_webhooks
