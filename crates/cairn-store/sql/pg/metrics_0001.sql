-- CloudWatch on PostgreSQL (the same contract as sql/metrics.sql): metrics and their
-- datapoints, metric alarms with their state and history, and the alarm actions waiting to be
-- carried out, per account and region.
--
-- Text that the store sorts by is COLLATE "C": byte order, as SQLite sorts, whatever locale
-- the database was made with.

-- One row per metric: namespace, name and exact dimension set (`dims`, a JSON array of
-- [name, value] pairs sorted by name).
CREATE TABLE metrics (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    namespace  TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    dims       TEXT COLLATE "C" NOT NULL,
    UNIQUE (account, region, namespace, name, dims)
);

-- Datapoints as published. `value` is JSON: {"v": [[value, count], ...]} for values, or
-- {"s": [sampleCount, sum, minimum, maximum]} for a statistic set. `id` keeps datapoints of
-- one instant in the order they came (SQLite's rowid does there).
CREATE TABLE datapoints (
    id      BIGINT GENERATED ALWAYS AS IDENTITY,
    metric  BIGINT NOT NULL,
    t       BIGINT NOT NULL,      -- ms since the epoch
    unit    TEXT,                 -- NULL: AWS's unit None
    value   TEXT NOT NULL
);
CREATE INDEX datapoints_by_metric ON datapoints (metric, t);

-- Metric alarms. `config` is the alarm's configuration as PutMetricAlarm accepted it (JSON).
CREATE TABLE alarms (
    account            TEXT COLLATE "C" NOT NULL,
    region             TEXT COLLATE "C" NOT NULL,
    name               TEXT COLLATE "C" NOT NULL,
    config             TEXT NOT NULL,
    config_updated_ms  BIGINT NOT NULL,
    actions_enabled    BOOLEAN NOT NULL,
    state_value        TEXT NOT NULL,
    state_reason       TEXT NOT NULL,
    state_reason_data  TEXT,
    state_updated_ms   BIGINT NOT NULL,
    state_transitioned_ms BIGINT NOT NULL,
    next_eval_ms       BIGINT NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE INDEX alarms_by_next_eval ON alarms (next_eval_ms);

CREATE TABLE alarm_history (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    alarm     TEXT NOT NULL,
    t         BIGINT NOT NULL,
    kind      TEXT NOT NULL,      -- HistoryItemType
    summary   TEXT NOT NULL,
    data      TEXT NOT NULL
);
CREATE INDEX alarm_history_by_alarm ON alarm_history (account, region, alarm, t);

-- Alarm actions not yet carried out: written with the transition that causes them, removed
-- once done, so a crash between the two repeats an action rather than losing it. Read as a
-- whole set of due actions, never "after id N": identity order is enough.
CREATE TABLE pending_actions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    alarm      TEXT NOT NULL,
    target     TEXT NOT NULL,     -- the action's ARN
    subject    TEXT NOT NULL,
    message    TEXT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    due_ms     BIGINT NOT NULL
);
