// The delivery service's SQL over the webhook tables (plugins/routes_webhooks/webhook_schema.hpp)
// and its own position table. The database is the only truth: the engine keeps nothing in memory
// that a restart could not rebuild from these rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "plugins/webhook_delivery/attempt_outcome.hpp"
#include "plugins/webhook_delivery/fan_out.hpp"
#include "portico/database.hpp"
#include "portico/event.hpp"

namespace portico::webhook_delivery {

// The plugin's own migrations: its position in the outbox.
std::vector<Migration> delivery_migrations();

// Throws std::runtime_error ("enable [plugins.routes_webhooks] too") when the shared webhook
// tables are missing.
void require_webhook_tables(Database& db);

// The per-endpoint due-row index this service's scheduling relies on (a partial index over the
// pending rows of webhook_deliveries). Idempotent.
void ensure_delivery_indexes(Database& db);

// --- fan-out -----------------------------------------------------------------------------------

// Thrown when the stored position is not the one expected (another instance moved it).
class PositionMoved : public std::runtime_error {
 public:
  PositionMoved() : std::runtime_error("the outbox position moved under this instance") {}
};

std::int64_t load_position(Session& db);
// Moves the position from `expected` to `next`, or throws PositionMoved.
void advance_position(Session& tx, std::int64_t expected, std::int64_t next);

std::vector<FanOutEndpoint> enabled_endpoints(Session& db);

// The latest next_attempt_at among the endpoint's pending rows of `ordering_key`, if any: a new
// row of that key must not become due before it (it would only wait behind them anyway).
std::optional<std::int64_t> latest_pending_of_key(Session& tx, const std::string& endpoint_id,
                                                  const std::string& ordering_key);

// One pending row for (endpoint, event), due at `due_ms` (Unix ms); ordering_key = the subject.
void insert_delivery(Session& tx, const std::string& endpoint_id, const StoredEvent& event,
                     std::int64_t due_ms, std::chrono::system_clock::time_point now);

// --- dispatch ----------------------------------------------------------------------------------

struct DueDelivery {
  std::int64_t id = 0;
  std::string endpoint_id;
  std::string event_id;
  std::int64_t event_sequence = 0;
  std::string ordering_key;
  int attempts = 0;  // attempts made so far
  std::string url;
  // As stored: sealed under the data key (webhooks_common/secrets_at_rest.hpp), or plain text
  // kept from before sealing existed.
  std::string secret;
  std::optional<std::string> previous_secret, previous_secret_expires_at, signing_key;
};

std::vector<std::string> enabled_endpoint_ids(Session& db);

// The endpoint's pending rows due at `now_ms`, oldest due first, at most `limit` — only the
// first pending row (smallest event_sequence) of each non-empty ordering key, and not a row
// another node than `owner` holds a running lease on (a leased first row still holds back the
// rest of its key). Nothing when the endpoint is not enabled.
std::vector<DueDelivery> due_deliveries(Session& db, const std::string& endpoint_id,
                                        std::int64_t now_ms, int limit,
                                        const std::string& owner = {});

// Claims pending rows for `owner` until `until_ms` (Unix ms), inside the caller's transaction:
// those not leased by another node whose lease is still running at `now_ms`. Returns the ids
// claimed, in the order given.
std::vector<std::int64_t> claim_deliveries(Session& tx, const std::vector<std::int64_t>& ids,
                                           const std::string& owner, std::int64_t now_ms,
                                           std::int64_t until_ms);
// Gives up `owner`'s leases on the rows given (abandoned at shutdown), so another node takes
// them at once instead of when the leases run out.
void release_deliveries(Session& tx, const std::vector<std::int64_t>& ids, const std::string& owner);

// Moves the end of `owner`'s running leases to `until_ms` (its sends are still on the wire).
void renew_deliveries(Session& tx, const std::string& owner, std::int64_t until_ms);
// The owners holding a running lease at `now_ms` whose name starts with `prefix`.
std::vector<std::string> lease_owners(Session& db, const std::string& prefix, std::int64_t now_ms);
// Ends every lease of `owner` (a process that is gone).
void release_owner(Session& tx, const std::string& owner);

// When the endpoint's next pending row becomes due after `now_ms`, if it has one.
std::optional<std::int64_t> next_due_at(Session& db, const std::string& endpoint_id,
                                        std::int64_t now_ms);

// --- results -----------------------------------------------------------------------------------

struct FinishedAttempt {
  std::int64_t delivery_id = 0;
  std::string endpoint_id;
  std::string event_id;
  std::string ordering_key;
  std::int64_t event_sequence = 0;
  int attempt = 0;                           // 1 = first try
  std::chrono::system_clock::time_point at;  // when it started
  std::chrono::milliseconds latency{0};
  AttemptOutcome outcome;
};

struct RecordEffect {
  bool recorded = false;          // false: the row was gone or no longer pending
  std::string endpoint_disabled;  // the reason, when this attempt disabled the endpoint
};

// Records one attempt inside the caller's transaction: its webhook_attempts row, the delivery's
// new state, the endpoint's failing_since, and — after 410 or 5 days of failures — disables the
// endpoint (the latter also appends webhook.endpoint_disabled through `outbox`).
RecordEffect record_attempt(Session& tx, Outbox& outbox, const FinishedAttempt& attempt,
                            std::chrono::system_clock::time_point now);

}  // namespace portico::webhook_delivery
