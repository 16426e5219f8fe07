-- Seed 004's server-side queue, shared by every replica (see sync/queue): an item queued
-- through one replica is listed, processed and resolved through any other. An item is
-- taken for sending by one conditional UPDATE (status → SYNCING), so two replicas never
-- send it both; a claim left by a replica that stopped is taken again once it is older
-- than the longest wait for CARE.
CREATE TABLE sync_queue_item (
    id TEXT PRIMARY KEY,
    seq BIGSERIAL NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    device_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    record_path TEXT NOT NULL,
    data TEXT,
    fingerprint TEXT NOT NULL,
    base_version TEXT,
    version BIGINT,
    created_at_client TEXT,
    queued_at_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    retry_count BIGINT NOT NULL DEFAULT 0,
    last_http_status INTEGER,
    last_error TEXT,
    result_id TEXT,
    server_record TEXT,
    resolution TEXT,
    flagged_at_ms BIGINT,
    flagged_by TEXT,
    synced_at_ms BIGINT,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX sync_queue_item_owner ON sync_queue_item (user_id, device_id, status);
CREATE INDEX sync_queue_item_status ON sync_queue_item (status, updated_at_ms);
