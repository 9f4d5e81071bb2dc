// The webhook tables, owned by routes_webhooks (its migrations) and shared with webhook_delivery,
// which fans events out into webhook_deliveries, records webhook_attempts and disables endpoints.
// The columns and states below are the contract between the two plugins.
#pragma once

#include <vector>

#include "portico/database.hpp"

namespace portico::routes_webhooks {

inline std::vector<Migration> webhook_migrations() {
  return {
      {1, "webhook endpoints, deliveries (the durable queue) and attempts",
       R"sql(
CREATE TABLE webhook_endpoints (
  id                 TEXT PRIMARY KEY,             -- "we_" + 24 base62
  partner_id         TEXT NOT NULL,
  url                TEXT NOT NULL,
  events             TEXT NOT NULL,                -- JSON array of filters: "order.*", exact types, "*"
  description        TEXT NOT NULL DEFAULT '',
  status             TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
  disabled_reason    TEXT,                         -- why the gateway disabled it (410, 5 days failing)
  secret             TEXT NOT NULL,                -- "whsec_…": signs every delivery (v1)
  previous_secret    TEXT,                         -- still signs alongside until it expires
  previous_secret_expires_at TEXT,                 -- RFC 3339 UTC (sdk/time.hpp)
  signing_key        TEXT,                         -- "whsk_…" when v1a (Ed25519) is on, else NULL
  public_key         TEXT,                         -- "whpk_…", published to the partner
  failing_since      TEXT,                         -- first failure since the last success
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_by_partner ON webhook_endpoints(partner_id, created_at, id);

-- One row per (event, endpoint) to deliver: the durable queue. state pending → succeeded | failed.
-- A pending row is due when next_attempt_at (Unix ms) has passed. For one endpoint, rows with the
-- same ordering_key (the event's subject, e.g. the order id) go out in event_sequence order: a row
-- waits while an earlier pending one of its key exists.
CREATE TABLE webhook_deliveries (
  id              INTEGER PRIMARY KEY,
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  event_id        TEXT NOT NULL,
  event_sequence  INTEGER NOT NULL,                -- outbox_events.sequence
  ordering_key    TEXT NOT NULL DEFAULT '',        -- '' = unordered
  state           TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,                -- Unix ms
  last_status     INTEGER,                         -- HTTP status of the last attempt, NULL = none
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries(endpoint_id, ordering_key, state,
                                                            event_sequence);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries(event_id);

-- Every attempt, for GET /v1/webhooks/{id}/deliveries.
CREATE TABLE webhook_attempts (
  id           INTEGER PRIMARY KEY,
  delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  endpoint_id  TEXT NOT NULL,
  event_id     TEXT NOT NULL,
  attempt      INTEGER NOT NULL,                   -- 1 = first try
  at           TEXT NOT NULL,                      -- RFC 3339 UTC
  status_code  INTEGER,                            -- NULL: no HTTP answer
  latency_ms   INTEGER NOT NULL,
  error        TEXT                                -- NULL on 2xx
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts(endpoint_id, id);

-- Secrets generated once per database (the cursor MAC key), never shown.
CREATE TABLE webhooks_secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql"},
      {2, "delivery leases: which gateway node is sending a delivery, and until when",
       R"sql(
-- Set by the node that sends a pending row (webhook_delivery claims it first), cleared when the
-- attempt is recorded. Another node skips a row whose lease has not run out, so with N nodes each
-- delivery is sent once; a node killed mid-send leaves its lease to run out, and the row goes out
-- again from another node (at least once, never lost).
ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN lease_until INTEGER;  -- Unix ms; NULL = not claimed
)sql"},
  };
}

}  // namespace portico::routes_webhooks
