// The core's own schema: the transactional outbox that route plugins append events to, and the
// row readiness probes write.
#include "core/storage/migrations.hpp"

namespace portico::storage {

std::vector<Migration> core_migrations() {
  return {
      {1, "outbox events",
       R"sql(
CREATE TABLE outbox_events(
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a sequence is never reused
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  partner_id TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
-- A partner's event feed: WHERE partner_id IN (?, '') AND sequence > ? ORDER BY sequence.
CREATE INDEX outbox_events_partner_sequence ON outbox_events(partner_id, sequence);
-- Retention: DELETE ... WHERE created_at < ?.
CREATE INDEX outbox_events_created_at ON outbox_events(created_at);
)sql"},
      {2, "store probe",
       R"sql(
-- One row that GET /readyz rewrites while writes are failing, to see when they work again.
CREATE TABLE core_store_probe(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  written_at TEXT NOT NULL
);
)sql"},
  };
}

}  // namespace portico::storage
