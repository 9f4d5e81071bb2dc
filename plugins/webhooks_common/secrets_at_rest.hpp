// Webhook signing secrets at rest (plugin API 1.3, Host::seal_secret). The columns
// webhook_endpoints.secret, previous_secret and signing_key hold "sealed:v1:<key id>:<base64>" —
// authenticated encryption under the operator's data key (security.data_key) — never the secret
// itself, so a copy of the database alone signs nothing. routes_webhooks seals what it stores
// (creation, rotation, a new Ed25519 key); webhook_delivery opens what it signs with. Values from
// before sealing existed (plain "whsec_…" / "whsk_…") and values sealed under a previous data key
// are sealed again under the current key when either plugin starts (reseal_endpoint_secrets): that
// is how a data key rotation completes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "portico/host.hpp"

namespace portico::webhooks {

// Throws std::runtime_error, naming security.data_key and PORTICO_DATA_KEY, when the host cannot
// seal (no data key is configured). Called from init() so such a gateway does not start.
void require_data_key(Host& host);

// Whether `stored` is in the sealed form (under any key).
bool is_sealed(std::string_view stored);

// The secret a stored value holds: opened when sealed; a plain value kept from before sealing
// existed is returned as it is. Throws std::runtime_error, which never contains the value, when
// it is sealed and does not open (an unknown data key, tampering).
std::string open_stored_secret(Host& host, std::string_view stored);

struct ResealReport {
  int resealed = 0;                     // values sealed again under the current data key
  std::vector<std::string> unreadable;  // ids of endpoints holding a value that does not open
};

// Seals again, under the current data key, every secret / previous_secret / signing_key of
// webhook_endpoints that is plain text or sealed under a previous key. A value is replaced only if
// it is still the one read (a rotation meanwhile wins) and updated_at is left alone (nothing
// changed for the partner). A value that does not open stays as it is and its endpoint is logged
// as an error — by id, never the value; deliveries to it fail until it is rotated or its key is
// back in security.previous_data_keys.
ResealReport reseal_endpoint_secrets(Host& host);

}  // namespace portico::webhooks
