-- Lambda on PostgreSQL (the same contract as sql/lambda.sql): functions, each function's code
-- zip, and the durable queue of asynchronous (Event) invocations.
CREATE TABLE functions (
    arn                   TEXT PRIMARY KEY,        -- unqualified
    account               TEXT NOT NULL,
    region                TEXT NOT NULL,
    name                  TEXT NOT NULL,
    config                TEXT NOT NULL,           -- a JSON object, as the service describes it
    code_sha256           TEXT NOT NULL,
    code_size             BIGINT NOT NULL,
    revision_id           TEXT NOT NULL,
    tags                  TEXT NOT NULL DEFAULT '{}',
    policy                TEXT,                    -- the resource policy document, if any
    reserved_concurrency  BIGINT,
    invoke_config         TEXT,                    -- the event invoke config, a JSON object
    created_ms            BIGINT NOT NULL,
    modified_ms           BIGINT NOT NULL
);
CREATE UNIQUE INDEX functions_by_place ON functions (account, region, name);

CREATE TABLE code (
    arn  TEXT PRIMARY KEY,
    zip  BYTEA NOT NULL
);

CREATE TABLE invocations (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    function_arn  TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    payload       BYTEA NOT NULL,
    context       TEXT NOT NULL DEFAULT '{}',  -- who invoked, as the service describes it
    attempts      BIGINT NOT NULL DEFAULT 0,
    next_ms       BIGINT NOT NULL,
    created_ms    BIGINT NOT NULL
);
CREATE INDEX invocations_due ON invocations (next_ms, id);
CREATE INDEX invocations_by_function ON invocations (function_arn);
