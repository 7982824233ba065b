-- CloudWatch Logs: log groups, their streams and events, and metric filters, per account and
-- region. Event ids are the rowid, so (timestamp, id) orders a stream and pages through it.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS log_groups (
    account         TEXT NOT NULL,
    region          TEXT NOT NULL,
    name            TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    retention_days  INTEGER,             -- NULL: never expire
    tags            TEXT NOT NULL DEFAULT '{}',  -- a JSON object of strings
    PRIMARY KEY (account, region, name)
);

CREATE TABLE IF NOT EXISTS log_streams (
    account            TEXT NOT NULL,
    region             TEXT NOT NULL,
    grp                TEXT NOT NULL,
    name               TEXT NOT NULL,
    created_ms         INTEGER NOT NULL,
    first_event_ms     INTEGER,
    last_event_ms      INTEGER,
    last_ingestion_ms  INTEGER,
    uploads            INTEGER NOT NULL DEFAULT 0,  -- PutLogEvents calls: the sequence token
    PRIMARY KEY (account, region, grp, name)
);

CREATE TABLE IF NOT EXISTS log_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    grp           TEXT NOT NULL,
    stream        TEXT NOT NULL,
    ts            INTEGER NOT NULL,
    message       TEXT NOT NULL,
    ingestion_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_by_stream ON log_events (account, region, grp, stream, ts, id);
CREATE INDEX IF NOT EXISTS log_events_by_group ON log_events (account, region, grp, ts, id);

CREATE TABLE IF NOT EXISTS metric_filters (
    account          TEXT NOT NULL,
    region           TEXT NOT NULL,
    grp              TEXT NOT NULL,
    name             TEXT NOT NULL,
    pattern          TEXT NOT NULL,
    transformations  TEXT NOT NULL,      -- the metricTransformations JSON, as stored
    created_ms       INTEGER NOT NULL,
    PRIMARY KEY (account, region, grp, name)
);
