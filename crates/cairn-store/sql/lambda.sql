-- Lambda: functions (their configuration as the service describes it, code digest, resource
-- policy, reserved concurrency, event invoke config, tags), each function's code zip, and the
-- durable queue of asynchronous (Event) invocations, one row per invocation until it ran or
-- was given up, so an acknowledged Event invocation survives kill -9.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS functions (
    arn                   TEXT PRIMARY KEY,        -- unqualified
    account               TEXT NOT NULL,
    region                TEXT NOT NULL,
    name                  TEXT NOT NULL,
    config                TEXT NOT NULL,           -- a JSON object, as the service describes it
    code_sha256           TEXT NOT NULL,
    code_size             INTEGER NOT NULL,
    revision_id           TEXT NOT NULL,
    tags                  TEXT NOT NULL DEFAULT '{}',
    policy                TEXT,                    -- the resource policy document, if any
    reserved_concurrency  INTEGER,
    invoke_config         TEXT,                    -- the event invoke config, a JSON object
    created_ms            INTEGER NOT NULL,
    modified_ms           INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS functions_by_place ON functions (account, region, name);

CREATE TABLE IF NOT EXISTS code (
    arn  TEXT PRIMARY KEY,
    zip  BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS invocations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    function_arn  TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    payload       BLOB NOT NULL,
    context       TEXT NOT NULL DEFAULT '{}',  -- who invoked, as the service describes it
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_ms       INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS invocations_due ON invocations (next_ms, id);
CREATE INDEX IF NOT EXISTS invocations_by_function ON invocations (function_arn);
