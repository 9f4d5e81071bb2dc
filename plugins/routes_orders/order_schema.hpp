// The tables routes_orders owns, as migration steps the host applies before init(). Stock lives in
// routes_products' `stock` table, written here through its documented SQL contract.
#pragma once

#include <vector>

#include "portico/database.hpp"

namespace portico::routes_orders {

inline std::vector<Migration> order_migrations() {
  return {
      {1, "orders, items, stock allocations, status history, shipments, idempotency keys",
       R"sql(
CREATE TABLE orders (
  id               TEXT PRIMARY KEY,             -- "ord_" + 24 base62
  partner_id       TEXT NOT NULL,
  external_id      TEXT,                         -- the partner's own reference, unique per partner
  status           TEXT NOT NULL
                   CHECK (status IN ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled')),
  currency         TEXT NOT NULL,
  total_amount     INTEGER NOT NULL CHECK (total_amount >= 0),
  shipping_address TEXT NOT NULL,                -- JSON object
  metadata         TEXT NOT NULL DEFAULT '{}',   -- JSON object of strings
  version          INTEGER NOT NULL DEFAULT 1,   -- bumped with every change
  created_at       TEXT NOT NULL,                -- RFC 3339 UTC, fixed width: text order = time
  updated_at       TEXT NOT NULL
);
CREATE UNIQUE INDEX orders_by_external_id ON orders(partner_id, external_id)
  WHERE external_id IS NOT NULL;
CREATE INDEX orders_by_partner ON orders(partner_id, created_at, id);
CREATE INDEX orders_by_partner_status ON orders(partner_id, status, created_at, id);

-- The lines as ordered, with the catalog's sku, name and price at order time.
CREATE TABLE order_items (
  order_id    TEXT NOT NULL REFERENCES orders(id),
  line        INTEGER NOT NULL,                  -- 0-based, the request's order
  product_id  TEXT NOT NULL,
  sku         TEXT NOT NULL,
  name        TEXT NOT NULL,
  quantity    INTEGER NOT NULL CHECK (quantity > 0),
  unit_amount INTEGER NOT NULL CHECK (unit_amount >= 0),
  PRIMARY KEY (order_id, line)
) WITHOUT ROWID;

-- Which warehouse's stock each product's units were reserved from (released on cancel,
-- taken out of `reserved` on shipment).
CREATE TABLE order_allocations (
  order_id     TEXT NOT NULL REFERENCES orders(id),
  product_id   TEXT NOT NULL,
  warehouse_id TEXT NOT NULL,
  quantity     INTEGER NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, product_id, warehouse_id)
) WITHOUT ROWID;

CREATE TABLE order_status_history (
  order_id TEXT NOT NULL REFERENCES orders(id),
  seq      INTEGER NOT NULL,                     -- 0 = pending at creation
  status   TEXT NOT NULL,
  at       TEXT NOT NULL,
  PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;

CREATE TABLE shipments (
  order_id        TEXT PRIMARY KEY REFERENCES orders(id),
  carrier         TEXT NOT NULL,
  tracking_number TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('in_transit', 'delivered')),
  events          TEXT NOT NULL DEFAULT '[]',    -- JSON array of tracking events
  shipped_at      TEXT NOT NULL,
  delivered_at    TEXT,
  updated_at      TEXT NOT NULL
) WITHOUT ROWID;

-- POST /v1/orders under an Idempotency-Key: the request's fingerprint and the stored answer,
-- written in the transaction that creates the order.
CREATE TABLE idempotency_keys (
  partner_id   TEXT NOT NULL,
  key          TEXT NOT NULL,
  fingerprint  TEXT NOT NULL,                    -- hex BLAKE2b of the canonical request body
  status       INTEGER NOT NULL,
  body         TEXT NOT NULL,
  order_id     TEXT,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (partner_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);

-- Secrets generated once per database (the cursor MAC key), never shown.
CREATE TABLE orders_secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql"},
      // SQLite only: a WITHOUT ROWID table is stored in its key's order, and the key here is the
      // partner's random Idempotency-Key, so each order's record (with its ~1 KB answer) went
      // into a random page of a tree that grows by ~1 KB per order — past the page cache within
      // a few thousand orders, after which almost every insert read and dirtied a page of its own
      // and orders/s fell as the table grew. As a rowid table the records are appended; only the
      // small (partner_id, key) index is random. PostgreSQL's heap already appends.
      {2,
       "idempotency keys appended in insertion order, looked up through a unique index",
       R"sql(SELECT 1;)sql",
       {{"sqlite", R"sql(
CREATE TABLE idempotency_keys_appended (
  partner_id   TEXT NOT NULL,
  key          TEXT NOT NULL,
  fingerprint  TEXT NOT NULL,                    -- hex BLAKE2b of the canonical request body
  status       INTEGER NOT NULL,
  body         TEXT NOT NULL,
  order_id     TEXT,
  created_at   TEXT NOT NULL
);
INSERT INTO idempotency_keys_appended
  (partner_id, key, fingerprint, status, body, order_id, created_at)
  SELECT partner_id, key, fingerprint, status, body, order_id, created_at
  FROM idempotency_keys ORDER BY created_at;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_appended RENAME TO idempotency_keys;
CREATE UNIQUE INDEX idempotency_keys_by_key ON idempotency_keys(partner_id, key);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
)sql"}}},
  };
}

}  // namespace portico::routes_orders
