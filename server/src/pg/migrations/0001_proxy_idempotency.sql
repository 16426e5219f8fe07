-- The proxy's idempotency keys, shared by every replica (see sync/idempotency).
-- A key is claimed by the one INSERT that creates its row; `claimed_at` dates the claim,
-- so a write still in flight long after any replica could be waiting for it is known to
-- have been cut off.
CREATE TABLE proxy_idempotency (
    user_key TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    content_type TEXT,
    body BYTEA,
    unknown BOOLEAN NOT NULL DEFAULT FALSE,
    sealed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (user_key, idem_key)
);
CREATE INDEX proxy_idempotency_created ON proxy_idempotency (created_at);
