
CREATE TABLE products (
  id            TEXT PRIMARY KEY,
  sku           TEXT NOT NULL UNIQUE,
  name          TEXT NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  category      TEXT NOT NULL DEFAULT '',
  price_amount  INTEGER NOT NULL CHECK (price_amount >= 0),
  currency      TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
  attributes    TEXT,                       -- JSON object, NULL when none
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,              -- RFC 3339 UTC, fixed width: text order = time order
  version       INTEGER NOT NULL DEFAULT 1, -- bumped with every change of the fields above
  stock_version INTEGER NOT NULL DEFAULT 0  -- bumped by the triggers below, whoever writes stock
);
CREATE INDEX products_by_category ON products(category, id);
CREATE INDEX products_by_status ON products(status, id);
CREATE INDEX products_by_updated ON products(updated_at, id);

CREATE TABLE warehouses (
  id         TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);

CREATE TABLE stock (
  product_id   TEXT NOT NULL REFERENCES products(id),
  warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
  available    INTEGER NOT NULL CHECK (available >= 0),
  reserved     INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  updated_at   TEXT NOT NULL,
  PRIMARY KEY (product_id, warehouse_id)
) WITHOUT ROWID;

CREATE TABLE stock_adjustments (
  id              INTEGER PRIMARY KEY,
  product_id      TEXT NOT NULL,
  warehouse_id    TEXT NOT NULL,
  delta           INTEGER NOT NULL,
  reason          TEXT NOT NULL DEFAULT '',
  available_after INTEGER NOT NULL,
  created_at      TEXT NOT NULL
);
CREATE INDEX stock_adjustments_by_product ON stock_adjustments(product_id, id);

-- Secrets generated once per database (the cursor MAC key), never shown.
CREATE TABLE products_secrets (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
