-- CloudWatch: metrics and their datapoints, metric alarms with their state and history, and the
-- alarm actions waiting to be carried out, per account and region.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

-- One row per metric: namespace, name and exact dimension set (`dims`, a JSON array of
-- [name, value] pairs sorted by name).
CREATE TABLE IF NOT EXISTS metrics (
    id         INTEGER PRIMARY KEY,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    dims       TEXT NOT NULL,
    UNIQUE (account, region, namespace, name, dims)
);

-- Datapoints as published. `value` is JSON: {"v": [[value, count], ...]} for values, or
-- {"s": [sampleCount, sum, minimum, maximum]} for a statistic set.
CREATE TABLE IF NOT EXISTS datapoints (
    metric  INTEGER NOT NULL,
    t       INTEGER NOT NULL,     -- ms since the epoch
    unit    TEXT,                 -- NULL: AWS's unit None
    value   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS datapoints_by_metric ON datapoints (metric, t);

-- Metric alarms. `config` is the alarm's configuration as PutMetricAlarm accepted it (JSON).
CREATE TABLE IF NOT EXISTS alarms (
    account            TEXT NOT NULL,
    region             TEXT NOT NULL,
    name               TEXT NOT NULL,
    config             TEXT NOT NULL,
    config_updated_ms  INTEGER NOT NULL,
    actions_enabled    INTEGER NOT NULL,
    state_value        TEXT NOT NULL,
    state_reason       TEXT NOT NULL,
    state_reason_data  TEXT,
    state_updated_ms   INTEGER NOT NULL,
    state_transitioned_ms INTEGER NOT NULL,
    next_eval_ms       INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE INDEX IF NOT EXISTS alarms_by_next_eval ON alarms (next_eval_ms);

CREATE TABLE IF NOT EXISTS alarm_history (
    id        INTEGER PRIMARY KEY,
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    alarm     TEXT NOT NULL,
    t         INTEGER NOT NULL,
    kind      TEXT NOT NULL,      -- HistoryItemType
    summary   TEXT NOT NULL,
    data      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_history_by_alarm ON alarm_history (account, region, alarm, t);

-- Alarm actions not yet carried out: written with the transition that causes them, removed
-- once done, so a crash between the two repeats an action rather than losing it.
CREATE TABLE IF NOT EXISTS pending_actions (
    id         INTEGER PRIMARY KEY,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    alarm      TEXT NOT NULL,
    target     TEXT NOT NULL,     -- the action's ARN
    subject    TEXT NOT NULL,
    message    TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    due_ms     INTEGER NOT NULL
);
