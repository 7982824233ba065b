-- Trails: their settings, selectors, tags and delivery status. One row per trail, in its home
-- region; multi-region trails appear in other regions as shadow trails derived from this row.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS trails (
    arn                      TEXT PRIMARY KEY,
    account                  TEXT NOT NULL,
    home_region              TEXT NOT NULL,
    name                     TEXT NOT NULL,
    s3_bucket                TEXT NOT NULL,
    s3_key_prefix            TEXT,
    sns_topic_name           TEXT,
    include_global_events    INTEGER NOT NULL,
    multi_region             INTEGER NOT NULL,
    log_file_validation      INTEGER NOT NULL,
    cw_log_group_arn         TEXT,
    cw_role_arn              TEXT,
    kms_key_id               TEXT,
    organization             INTEGER NOT NULL DEFAULT 0,
    event_selectors          TEXT,   -- JSON: basic selectors, as put (NULL: the default)
    advanced_event_selectors TEXT,   -- JSON: advanced selectors, as put
    insight_selectors        TEXT,   -- JSON
    logging                  INTEGER NOT NULL DEFAULT 0,
    -- Journal offset ranges in which the trail was logging, JSON [[from, to-or-null], …]:
    -- delivery takes exactly the events committed inside them.
    logging_ranges           TEXT NOT NULL DEFAULT '[]',
    start_logging_ms         INTEGER,
    stop_logging_ms          INTEGER,
    created_ms               INTEGER NOT NULL,
    UNIQUE (account, home_region, name)
);

CREATE TABLE IF NOT EXISTS trail_tags (
    arn   TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
);

-- What delivery last did, for GetTrailStatus.
CREATE TABLE IF NOT EXISTS trail_status (
    arn                         TEXT PRIMARY KEY,
    latest_delivery_ms          INTEGER,
    latest_delivery_attempt_ms  INTEGER,
    latest_delivery_error       TEXT,
    latest_digest_ms            INTEGER,
    latest_digest_error         TEXT
);

-- How far trail delivery has planned into the journal.
CREATE TABLE IF NOT EXISTS delivery_cursor (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    offset INTEGER NOT NULL
);
INSERT OR IGNORE INTO delivery_cursor (id, offset) VALUES (1, 0);

-- Log files decided but not yet written. A plan fixes a file's key and its events before the
-- file is written, so a retry after a crash writes the same object again, never a second one.
CREATE TABLE IF NOT EXISTS delivery_plans (
    id         INTEGER PRIMARY KEY,
    trail_arn  TEXT NOT NULL,
    region     TEXT NOT NULL,
    key        TEXT NOT NULL,
    offsets    BLOB NOT NULL,   -- journal offsets of the records, u64 little-endian each
    created_ms INTEGER NOT NULL
);

-- Digest signing keys, per region (shared by every account, as in AWS). The private key is
-- sealed (AES-256-GCM) under the trails master key before it is stored.
CREATE TABLE IF NOT EXISTS signing_keys (
    region         TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,   -- hex MD5 of public_der
    public_der     BLOB NOT NULL,   -- PKCS#1 RSAPublicKey, DER
    private_sealed BLOB NOT NULL,
    valid_from_ms  INTEGER NOT NULL,
    valid_to_ms    INTEGER NOT NULL,
    PRIMARY KEY (region, fingerprint)
);

-- Log files written for trails that validate, until a digest lists them.
CREATE TABLE IF NOT EXISTS digest_files (
    id            INTEGER PRIMARY KEY,
    trail_arn     TEXT NOT NULL,
    region        TEXT NOT NULL,
    range_from    INTEGER NOT NULL,  -- the logging range (its first journal offset) of the file's events
    bucket        TEXT NOT NULL,
    key           TEXT NOT NULL,
    sha256        TEXT NOT NULL,     -- hex, of the uncompressed bytes
    oldest_event  TEXT,
    newest_event  TEXT,
    planned_ms    INTEGER NOT NULL   -- when the file was planned: its key's time, and its digest period
);

-- Digest chains. A regular chain belongs to one logging range of a (trail, source region): it
-- starts with a starting digest and ends with a final digest when logging stops. The backfill
-- chain (range_from = -1) lists files that missed their period's digest.
CREATE TABLE IF NOT EXISTS digest_chains (
    trail_arn       TEXT NOT NULL,
    region          TEXT NOT NULL,
    range_from      INTEGER NOT NULL,
    period_start_ms INTEGER NOT NULL,  -- start of the period the next digest covers
    prev_bucket     TEXT,              -- the previous digest; NULL before the starting digest
    prev_key        TEXT,
    prev_hash       TEXT,
    prev_signature  TEXT,
    PRIMARY KEY (trail_arn, region, range_from)
);

-- The newest digest end time per (trail, region, kind), so that keys never repeat.
CREATE TABLE IF NOT EXISTS digest_last_end (
    trail_arn TEXT NOT NULL,
    region    TEXT NOT NULL,
    backfill  INTEGER NOT NULL,
    end_ms    INTEGER NOT NULL,
    PRIMARY KEY (trail_arn, region, backfill)
);

-- Digests decided, signed and chained, not yet written. Like a log file plan, a retry writes
-- the same object again.
CREATE TABLE IF NOT EXISTS digest_plans (
    id         INTEGER PRIMARY KEY,
    trail_arn  TEXT NOT NULL,
    bucket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    body       BLOB NOT NULL,    -- the uncompressed JSON
    signature  TEXT NOT NULL,    -- hex
    backfill_generated TEXT      -- backfill digests: x-amz-meta-backfill-generation-timestamp
);

-- Every digest cairn decided, so that a validator can tell a deleted digest from one that
-- never existed.
CREATE TABLE IF NOT EXISTS digests_delivered (
    trail_arn TEXT NOT NULL,
    region    TEXT NOT NULL,
    backfill  INTEGER NOT NULL,
    bucket    TEXT NOT NULL,
    key       TEXT NOT NULL,
    end_ms    INTEGER NOT NULL,
    PRIMARY KEY (trail_arn, region, backfill, end_ms)
);

-- CloudWatch Logs delivery, per trail that has a log group: how far into the journal its
-- records went to the group (the cursor moves only after a PutLogEvents succeeded), whether a
-- batch was in flight when cairn last stopped (the next round checks the group for it before
-- writing again), and what the last round did, for GetTrailStatus.
CREATE TABLE IF NOT EXISTS cwl_delivery (
    arn          TEXT PRIMARY KEY,
    cursor       INTEGER NOT NULL,
    in_flight    INTEGER NOT NULL DEFAULT 0,
    latest_ms    INTEGER,
    latest_error TEXT,
    error_ms     INTEGER
);

-- SNS notifications of written log files, until the trail's topic took them. Each is queued
-- in the same transaction that marks its log file written, and leaves only after Publish
-- succeeded: a crash in between sends it again (at least once), never loses it.
CREATE TABLE IF NOT EXISTS trail_notices (
    id         INTEGER PRIMARY KEY,
    trail_arn  TEXT NOT NULL,
    bucket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

-- What the latest SNS notifications of a trail did, for GetTrailStatus.
CREATE TABLE IF NOT EXISTS trail_notify_status (
    arn          TEXT PRIMARY KEY,
    latest_ms    INTEGER,   -- the latest notification sent (LatestNotificationTime)
    attempt_ms   INTEGER,   -- the latest attempt, sent or not
    latest_error TEXT       -- SNS's error of the latest attempt, while unresolved
);
