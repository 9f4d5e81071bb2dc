// The tables routes_products owns, as migration steps the host applies before init(). The stock
// table and its triggers are also a contract with other plugins (see README "Stock SQL contract").
#pragma once

#include <string>
#include <vector>

#include "portico/database.hpp"

namespace portico::routes_products {

// Tables first, then the triggers that keep products.stock_version moving, in each backend's form.
inline constexpr const char* kCatalogTables = R"sql(
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
)sql";

// Any change of a product's stock, by any writer, changes its stamp: cached reads check it.
inline constexpr const char* kStockTriggersSqlite = R"sql(
CREATE TRIGGER stock_insert_bumps_version AFTER INSERT ON stock BEGIN
  UPDATE products SET stock_version = stock_version + 1 WHERE id = NEW.product_id;
END;
CREATE TRIGGER stock_update_bumps_version AFTER UPDATE ON stock BEGIN
  UPDATE products SET stock_version = stock_version + 1 WHERE id = NEW.product_id;
  UPDATE products SET stock_version = stock_version + 1
    WHERE id = OLD.product_id AND OLD.product_id <> NEW.product_id;
END;
CREATE TRIGGER stock_delete_bumps_version AFTER DELETE ON stock BEGIN
  UPDATE products SET stock_version = stock_version + 1 WHERE id = OLD.product_id;
END;

)sql";

inline constexpr const char* kStockTriggersPostgres = R"sql(
CREATE FUNCTION stock_bumps_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    UPDATE products SET stock_version = stock_version + 1 WHERE id = NEW.product_id;
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.product_id <> NEW.product_id) THEN
    UPDATE products SET stock_version = stock_version + 1 WHERE id = OLD.product_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER stock_bumps_version AFTER INSERT OR UPDATE OR DELETE ON stock
FOR EACH ROW EXECUTE FUNCTION stock_bumps_version();
)sql";

inline std::vector<Migration> catalog_migrations() {
  return {
      {1, "products, warehouses, stock (with stock_version triggers), adjustments, secrets",
       std::string(kCatalogTables) + kStockTriggersSqlite,
       {{"postgres", std::string(kCatalogTables) + kStockTriggersPostgres}}},
  };
}

}  // namespace portico::routes_products
