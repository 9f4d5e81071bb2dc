
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
