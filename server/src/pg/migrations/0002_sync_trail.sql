-- The sync API's audit trail and push ledger, shared by every replica (see sync/audit), so
-- an administrator's sync health and a device's repeated push read the same rows whichever
-- replica answers. Times are milliseconds since the epoch, as in the SQLite store.
CREATE TABLE sync_audit (
    seq BIGSERIAL PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    device_id TEXT,
    kind TEXT NOT NULL,
    item_id TEXT,
    operation TEXT,
    resource_type TEXT,
    method TEXT,
    route TEXT,
    resource_id TEXT,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    resolution TEXT,
    detail TEXT
);
CREATE INDEX sync_audit_at ON sync_audit (at_ms);
CREATE INDEX sync_audit_user_item ON sync_audit (user_id, item_id);
CREATE TABLE sync_push_ledger (
    user_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, item_id)
);
CREATE INDEX sync_push_ledger_at ON sync_push_ledger (at_ms);
