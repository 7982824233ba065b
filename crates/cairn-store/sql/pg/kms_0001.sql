-- KMS keys and aliases, per account and region, on PostgreSQL (the same contract as
-- sql/kms.sql). Key material is sealed (AES-256-GCM) under the deployment's master key before
-- it is stored.
CREATE TABLE keys (
    key_id           TEXT PRIMARY KEY,   -- a UUID
    account          TEXT NOT NULL,
    region           TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    key_usage        TEXT NOT NULL,      -- ENCRYPT_DECRYPT
    key_spec         TEXT NOT NULL,      -- SYMMETRIC_DEFAULT
    state            TEXT NOT NULL,      -- Enabled | Disabled | PendingDeletion
    policy           TEXT NOT NULL,
    material_sealed  BYTEA NOT NULL,
    created_ms       BIGINT NOT NULL,
    deletion_ms      BIGINT,             -- when PendingDeletion ends
    pending_days     BIGINT
);
CREATE INDEX keys_by_owner ON keys (account, region, created_ms, key_id);

CREATE TABLE aliases (
    account     TEXT NOT NULL,
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,           -- alias/…
    key_id      TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE INDEX aliases_by_key ON aliases (key_id);
