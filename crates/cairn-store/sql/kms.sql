-- KMS keys and aliases, per account and region. Key material is sealed (AES-256-GCM) under
-- DATA_DIR/kms.key before it is stored.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS keys (
    key_id           TEXT PRIMARY KEY,   -- a UUID
    account          TEXT NOT NULL,
    region           TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    key_usage        TEXT NOT NULL,      -- ENCRYPT_DECRYPT
    key_spec         TEXT NOT NULL,      -- SYMMETRIC_DEFAULT
    state            TEXT NOT NULL,      -- Enabled | Disabled | PendingDeletion
    policy           TEXT NOT NULL,
    material_sealed  BLOB NOT NULL,
    created_ms       INTEGER NOT NULL,
    deletion_ms      INTEGER,            -- when PendingDeletion ends
    pending_days     INTEGER
);
CREATE INDEX IF NOT EXISTS keys_by_owner ON keys (account, region, created_ms);

CREATE TABLE IF NOT EXISTS aliases (
    account     TEXT NOT NULL,
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,           -- alias/…
    key_id      TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
);
