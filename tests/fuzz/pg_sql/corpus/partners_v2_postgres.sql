
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
