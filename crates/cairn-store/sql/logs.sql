-- CloudWatch Logs: log groups, their streams and events, metric and subscription filters, and
-- resource policies, per account and region.
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

-- Log events, one row per PutLogEvents batch of one stream: the batch's events packed in one
-- blob (timestamp order, as PutLogEvents requires), so a batch of 10,000 events is one row and
-- one index entry rather than 10,000 rows and 20,000 index entries. Event ids are first_id + the
-- event's place in the batch; (timestamp, id) orders a group and pages through it.
CREATE TABLE IF NOT EXISTS log_batches (
    id            INTEGER PRIMARY KEY,
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    grp           TEXT NOT NULL,
    stream        TEXT NOT NULL,
    first_id      INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    min_ts        INTEGER NOT NULL,
    max_ts        INTEGER NOT NULL,
    ingestion_ms  INTEGER NOT NULL,
    events        BLOB NOT NULL     -- per event: timestamp (i64 LE), length (u32 LE), message
);
CREATE INDEX IF NOT EXISTS log_batches_by_group ON log_batches (account, region, grp, max_ts);

-- The next event id (ids are never reused, even after the newest events are deleted).
CREATE TABLE IF NOT EXISTS log_event_ids (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    next  INTEGER NOT NULL
);
INSERT OR IGNORE INTO log_event_ids (id, next) VALUES (1, 1);

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

-- Subscription filters: events ingested after a filter was put (ids from from_id on) that
-- match its pattern go to its destination (a Lambda function).
CREATE TABLE IF NOT EXISTS subscription_filters (
    account          TEXT NOT NULL,
    region           TEXT NOT NULL,
    grp              TEXT NOT NULL,
    name             TEXT NOT NULL,
    pattern          TEXT NOT NULL,
    destination_arn  TEXT NOT NULL,
    role_arn         TEXT,
    distribution     TEXT NOT NULL,
    from_id          INTEGER NOT NULL,   -- the first event id the filter sees
    created_ms       INTEGER NOT NULL,
    PRIMARY KEY (account, region, grp, name)
);

-- How far subscription delivery has read: the next event id (batches are read in first_id
-- order, which is their commit order). A new instance starts at the current end.
CREATE TABLE IF NOT EXISTS subscription_cursor (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    next  INTEGER NOT NULL
);
INSERT OR IGNORE INTO subscription_cursor (id, next) SELECT 1, next FROM log_event_ids WHERE id = 1;
CREATE INDEX IF NOT EXISTS log_batches_by_first_id ON log_batches (first_id);

-- Account-level resource policies (PutResourcePolicy): which AWS services may write to the
-- account's log groups. The service keeps the quota (10 per account and region).
CREATE TABLE IF NOT EXISTS resource_policies (
    account     TEXT NOT NULL,
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    document    TEXT NOT NULL,      -- the policy as put
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
);
