
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
