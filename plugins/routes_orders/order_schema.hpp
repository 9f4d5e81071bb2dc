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
  };
}

}  // namespace portico::routes_orders
