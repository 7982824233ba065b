-- CloudWatch Logs on PostgreSQL: log groups, their streams and events, metric and subscription
-- filters, and resource policies, per account and region.
CREATE TABLE log_groups (
    account         TEXT NOT NULL,
    region          TEXT NOT NULL,
    name            TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    retention_days  BIGINT,                      -- NULL: never expire
    tags            TEXT NOT NULL DEFAULT '{}',  -- a JSON object of strings
    PRIMARY KEY (account, region, name)
);

CREATE TABLE log_streams (
    account            TEXT NOT NULL,
    region             TEXT NOT NULL,
    grp                TEXT NOT NULL,
    name               TEXT NOT NULL,
    created_ms         BIGINT NOT NULL,
    first_event_ms     BIGINT,
    last_event_ms      BIGINT,
    last_ingestion_ms  BIGINT,
    uploads            BIGINT NOT NULL DEFAULT 0,  -- PutLogEvents calls: the sequence token
    PRIMARY KEY (account, region, grp, name)
);

-- Log events, one row per PutLogEvents batch of one stream, packed as the SQLite store packs
-- them (`crate::logs::batch`). Event ids are first_id + the event's place in the batch;
-- (timestamp, id) orders a group and pages through it. `id` only orders batches of equal
-- timestamps in a read; subscription delivery follows first_id.
CREATE TABLE log_batches (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    grp           TEXT NOT NULL,
    stream        TEXT NOT NULL,
    first_id      BIGINT NOT NULL,
    count         BIGINT NOT NULL,
    min_ts        BIGINT NOT NULL,
    max_ts        BIGINT NOT NULL,
    ingestion_ms  BIGINT NOT NULL,
    events        BYTEA NOT NULL     -- per event: timestamp (i64 LE), length (u32 LE), message
);
CREATE INDEX log_batches_by_group ON log_batches (account, region, grp, max_ts);
CREATE INDEX log_batches_by_first_id ON log_batches (first_id);

-- The next event id (ids are never reused). A PutLogEvents takes its ids by updating this
-- row, whose lock it holds until its transaction commits: ids become visible in the order
-- they were given, every node's alike, so a reader following them never skips a batch.
CREATE TABLE log_event_ids (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    next  BIGINT NOT NULL
);
INSERT INTO log_event_ids (id, next) VALUES (1, 1);

CREATE TABLE metric_filters (
    account          TEXT NOT NULL,
    region           TEXT NOT NULL,
    grp              TEXT NOT NULL,
    name             TEXT NOT NULL,
    pattern          TEXT NOT NULL,
    transformations  TEXT NOT NULL,      -- the metricTransformations JSON, as stored
    created_ms       BIGINT NOT NULL,
    PRIMARY KEY (account, region, grp, name)
);

-- Subscription filters: events ingested after a filter was put (ids from from_id on) that
-- match its pattern go to its destination (a Lambda function).
CREATE TABLE subscription_filters (
    account          TEXT NOT NULL,
    region           TEXT NOT NULL,
    grp              TEXT NOT NULL,
    name             TEXT NOT NULL,
    pattern          TEXT NOT NULL,
    destination_arn  TEXT NOT NULL,
    role_arn         TEXT,
    distribution     TEXT NOT NULL,
    from_id          BIGINT NOT NULL,    -- the first event id the filter sees
    created_ms       BIGINT NOT NULL,
    PRIMARY KEY (account, region, grp, name)
);

-- How far subscription delivery has read: the next event id (batches are read in first_id
-- order, which is their commit order). A new deployment starts at the current end.
CREATE TABLE subscription_cursor (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    next  BIGINT NOT NULL
);
INSERT INTO subscription_cursor (id, next) SELECT 1, next FROM log_event_ids WHERE id = 1;

-- Account-level resource policies (PutResourcePolicy). The service keeps the quota.
CREATE TABLE resource_policies (
    account     TEXT NOT NULL,
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    document    TEXT NOT NULL,      -- the policy as put
    updated_ms  BIGINT NOT NULL,
    PRIMARY KEY (account, region, name)
);
