// Schema steps of the partners module, applied with storage::apply_migrations(db, "partners", ...).
#include "core/partners/migrations.hpp"

namespace portico::partners {

std::vector<Migration> partners_migrations() {
  return {
      {1, "partners, api keys, core secrets",
       R"sql(
CREATE TABLE partners(
  id TEXT PRIMARY KEY,                      -- "ptr_..."
  name TEXT NOT NULL,
  tier TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  allowed_cidrs TEXT NOT NULL DEFAULT '[]', -- JSON array of canonical CIDRs; empty = any address
  rate_limit_override INTEGER NOT NULL DEFAULT 0,  -- requests per tier window; 0 = the tier's
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- Listing newest first with a (created_at, id) cursor.
CREATE INDEX partners_created ON partners(created_at, id);

CREATE TABLE api_keys(
  id TEXT PRIMARY KEY,                      -- "key_..."
  partner_id TEXT NOT NULL REFERENCES partners(id),
  env TEXT NOT NULL CHECK (env IN ('live', 'test')),
  prefix TEXT NOT NULL,                     -- first 12 characters of the key, safe to show
  hash TEXT NOT NULL UNIQUE,                -- hex BLAKE2b-256 keyed with the server secret
  scopes TEXT NOT NULL,                     -- JSON array
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  expires_at TEXT,
  revoked_at TEXT,
  replaced_by TEXT REFERENCES api_keys(id)  -- set by rotation
);
CREATE INDEX api_keys_partner_created ON api_keys(partner_id, created_at, id);

-- Secrets the core generates once and must keep across restarts.
CREATE TABLE core_secrets(
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql"},
      {2, "directory version: moves with every change of a partner or a key",
       // Every gateway on this database polls the one row and reloads its key index when it moved
       // (KeyDirectory::refresh_if_changed): a key issued or revoked, a partner disabled, its
       // tier, allow-list or override changed through any node or the CLI takes effect on every
       // node within the poll. Triggers, so no write path can forget it; a key's last use is
       // not a change of the directory.
       R"sql(
CREATE TABLE directory_version(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO directory_version(id, version) VALUES (1, 0);
CREATE TRIGGER partners_inserted AFTER INSERT ON partners
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER partners_updated AFTER UPDATE ON partners
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER partners_deleted AFTER DELETE ON partners
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_keys_inserted AFTER INSERT ON api_keys
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_keys_updated
AFTER UPDATE OF partner_id, env, prefix, hash, scopes, expires_at, revoked_at, replaced_by
ON api_keys
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
)sql",
       {{"postgres",
         // The same triggers in PostgreSQL's form: one function, fired once per statement.
         R"sql(
CREATE TABLE directory_version(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO directory_version(id, version) VALUES (1, 0);
CREATE FUNCTION partners_directory_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END $$;
CREATE TRIGGER partners_changed AFTER INSERT OR UPDATE OR DELETE ON partners
FOR EACH STATEMENT EXECUTE FUNCTION partners_directory_moved();
CREATE TRIGGER api_keys_added_or_removed AFTER INSERT OR DELETE ON api_keys
FOR EACH STATEMENT EXECUTE FUNCTION partners_directory_moved();
CREATE TRIGGER api_keys_updated
AFTER UPDATE OF partner_id, env, prefix, hash, scopes, expires_at, revoked_at, replaced_by
ON api_keys
FOR EACH STATEMENT EXECUTE FUNCTION partners_directory_moved();
)sql"}}},
  };
}

}  // namespace portico::partners
