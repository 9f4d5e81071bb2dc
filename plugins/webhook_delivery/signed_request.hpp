// The HTTP request of one delivery attempt, signed per Standard Webhooks 1.0: POST to the
// endpoint URL with the event payload as the exact body, `webhook-id` (the event id, the same on
// every retry), `webhook-timestamp` (this attempt, Unix seconds) and `webhook-signature` — v1 with
// the secret, v1 with the previous secret while it has not expired (rotation), and v1a (Ed25519)
// when the endpoint has a signing key — space-separated.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "lib/http_client/http_client.hpp"

namespace portico::webhook_delivery {

struct EndpointKeys {
  std::string url;
  std::string secret;                                     // "whsec_…"
  std::optional<std::string> previous_secret;             // "whsec_…" while rotating
  std::optional<std::string> previous_secret_expires_at;  // RFC 3339
  std::optional<std::string> signing_key;                 // raw 64-byte Ed25519 key, decoded
};

struct SignedRequest {
  std::optional<http_client::OutgoingRequest> request;
  std::string error;  // why no request could be built (bad URL or secret)
};

SignedRequest signed_request(const EndpointKeys& endpoint, const std::string& event_id,
                             const std::string& payload, std::chrono::system_clock::time_point now,
                             std::chrono::milliseconds timeout);

}  // namespace portico::webhook_delivery
