-- Trails on PostgreSQL (the same contract as sql/trails.sql): settings, selectors, tags and
-- delivery status, delivery plans and the delivery cursor, digest signing keys and digest
-- state, CloudWatch Logs delivery, and SNS notifications of written log files.
--
-- Text that the store sorts by is COLLATE "C": byte order, as SQLite sorts, whatever locale
-- the database was made with.
CREATE TABLE trails (
    arn                      TEXT COLLATE "C" PRIMARY KEY,
    account                  TEXT NOT NULL,
    home_region              TEXT COLLATE "C" NOT NULL,
    name                     TEXT COLLATE "C" NOT NULL,
    s3_bucket                TEXT NOT NULL,
    s3_key_prefix            TEXT,
    sns_topic_name           TEXT,
    include_global_events    BOOLEAN NOT NULL,
    multi_region             BOOLEAN NOT NULL,
    log_file_validation      BOOLEAN NOT NULL,
    cw_log_group_arn         TEXT,
    cw_role_arn              TEXT,
    kms_key_id               TEXT,
    organization             BOOLEAN NOT NULL DEFAULT FALSE,
    event_selectors          TEXT,   -- JSON: basic selectors, as put (NULL: the default)
    advanced_event_selectors TEXT,   -- JSON: advanced selectors, as put
    insight_selectors        TEXT,   -- JSON
    logging                  BOOLEAN NOT NULL DEFAULT FALSE,
    -- Journal offset ranges in which the trail was logging, JSON [[from, to-or-null], …].
    logging_ranges           TEXT NOT NULL DEFAULT '[]',
    start_logging_ms         BIGINT,
    stop_logging_ms          BIGINT,
    created_ms               BIGINT NOT NULL,
    UNIQUE (account, home_region, name)
);

CREATE TABLE trail_tags (
    arn   TEXT NOT NULL,
    key   TEXT COLLATE "C" NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
);

-- What delivery last did, for GetTrailStatus.
CREATE TABLE trail_status (
    arn                         TEXT PRIMARY KEY,
    latest_delivery_ms          BIGINT,
    latest_delivery_attempt_ms  BIGINT,
    latest_delivery_error       TEXT,
    latest_digest_ms            BIGINT,
    latest_digest_error         TEXT
);

-- How far trail delivery has planned into the journal (one row, for every node; `offset`, its
-- SQLite name, is a reserved word here).
CREATE TABLE delivery_cursor (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    journal_offset  BIGINT NOT NULL
);
INSERT INTO delivery_cursor (id, journal_offset) VALUES (1, 0);

-- Log files decided but not yet written (a retry writes the same object again). Read as a
-- whole queue, oldest first, never "after id N": identity order is enough.
CREATE TABLE delivery_plans (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trail_arn  TEXT NOT NULL,
    region     TEXT NOT NULL,
    key        TEXT NOT NULL,
    offsets    BYTEA NOT NULL,   -- journal offsets of the records, u64 little-endian each
    created_ms BIGINT NOT NULL
);

-- Digest signing keys, per region; the private key sealed under the trails master key.
CREATE TABLE signing_keys (
    region         TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,   -- hex MD5 of public_der
    public_der     BYTEA NOT NULL,  -- PKCS#1 RSAPublicKey, DER
    private_sealed BYTEA NOT NULL,
    valid_from_ms  BIGINT NOT NULL,
    valid_to_ms    BIGINT NOT NULL,
    PRIMARY KEY (region, fingerprint)
);

-- Log files written for trails that validate, until a digest lists them.
CREATE TABLE digest_files (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trail_arn     TEXT NOT NULL,
    region        TEXT NOT NULL,
    range_from    BIGINT NOT NULL,
    bucket        TEXT NOT NULL,
    key           TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    oldest_event  TEXT,
    newest_event  TEXT,
    planned_ms    BIGINT NOT NULL
);

-- Digest chains: one per logging range of a (trail, source region), and the backfill chain
-- (range_from = -1). prev_*: the previous digest, NULL before the starting digest.
CREATE TABLE digest_chains (
    trail_arn       TEXT NOT NULL,
    region          TEXT COLLATE "C" NOT NULL,
    range_from      BIGINT NOT NULL,
    period_start_ms BIGINT NOT NULL,
    prev_bucket     TEXT,
    prev_key        TEXT,
    prev_hash       TEXT,
    prev_signature  TEXT,
    PRIMARY KEY (trail_arn, region, range_from)
);

-- The newest digest end time per (trail, region, kind), so that keys never repeat.
CREATE TABLE digest_last_end (
    trail_arn TEXT NOT NULL,
    region    TEXT NOT NULL,
    backfill  BOOLEAN NOT NULL,
    end_ms    BIGINT NOT NULL,
    PRIMARY KEY (trail_arn, region, backfill)
);

-- Digests decided, signed and chained, not yet written.
CREATE TABLE digest_plans (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trail_arn  TEXT NOT NULL,
    bucket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    body       BYTEA NOT NULL,   -- the uncompressed JSON
    signature  TEXT NOT NULL,    -- hex
    backfill_generated TEXT
);

-- Every digest cairn decided, so that a validator can tell a deleted digest from one that
-- never existed.
CREATE TABLE digests_delivered (
    trail_arn TEXT NOT NULL,
    region    TEXT NOT NULL,
    backfill  BOOLEAN NOT NULL,
    bucket    TEXT NOT NULL,
    key       TEXT NOT NULL,
    end_ms    BIGINT NOT NULL,
    PRIMARY KEY (trail_arn, region, backfill, end_ms)
);

-- CloudWatch Logs delivery, per trail that has a log group.
CREATE TABLE cwl_delivery (
    arn          TEXT PRIMARY KEY,
    cursor       BIGINT NOT NULL,
    in_flight    BOOLEAN NOT NULL DEFAULT FALSE,
    latest_ms    BIGINT,
    latest_error TEXT,
    error_ms     BIGINT
);

-- SNS notifications of written log files, until the trail's topic took them (queued with the
-- written mark, removed after Publish succeeded).
CREATE TABLE trail_notices (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trail_arn  TEXT NOT NULL,
    bucket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

-- What the latest SNS notifications of a trail did, for GetTrailStatus.
CREATE TABLE trail_notify_status (
    arn          TEXT PRIMARY KEY,
    latest_ms    BIGINT,
    attempt_ms   BIGINT,
    latest_error TEXT
);
