#include "plugins/webhook_delivery/signed_request.hpp"

#include <vector>

#include "portico/sdk/time.hpp"
#include "lib/webhook_signing/signing.hpp"
#include "webhooks_common/target_guard.hpp"

namespace portico::webhook_delivery {

SignedRequest signed_request(const EndpointKeys& endpoint, const std::string& event_id,
                             const std::string& payload, std::chrono::system_clock::time_point now,
                             std::chrono::milliseconds timeout) {
  SignedRequest out;
  auto parsed = webhooks::parse_target(endpoint.url);
  if (!parsed) {
    out.error = "the endpoint URL is not deliverable: " + parsed.error;
    return out;
  }
  auto key = webhooks::decode_secret(endpoint.secret);
  if (!key) {
    out.error = "the endpoint secret is malformed";
    return out;
  }
  const std::int64_t timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

  std::vector<std::string> signatures;
  signatures.push_back(webhooks::sign_v1(*key, event_id, timestamp, payload));
  if (endpoint.previous_secret && endpoint.previous_secret_expires_at) {
    auto expires = sdk::parse_timestamp(*endpoint.previous_secret_expires_at);
    auto previous = webhooks::decode_secret(*endpoint.previous_secret);
    if (expires && previous && *expires > now) {
      signatures.push_back(webhooks::sign_v1(*previous, event_id, timestamp, payload));
    }
  }
  if (endpoint.signing_key) {
    signatures.push_back(webhooks::sign_v1a(*endpoint.signing_key, event_id, timestamp, payload));
  }

  const webhooks::Target& target = *parsed.target;
  http_client::OutgoingRequest request;
  request.scheme = target.scheme;
  request.host = target.host;
  request.port = target.port;
  request.target = target.target;
  request.body = payload;
  request.timeout = timeout;
  request.headers = {{"Content-Type", "application/json"},
                     {"webhook-id", event_id},
                     {"webhook-timestamp", std::to_string(timestamp)},
                     {"webhook-signature", webhooks::signature_header(signatures)}};
  out.request = std::move(request);
  return out;
}

}  // namespace portico::webhook_delivery
