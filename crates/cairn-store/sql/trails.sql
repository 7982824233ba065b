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
