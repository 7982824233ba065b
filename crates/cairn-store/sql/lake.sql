-- CloudTrail Lake: event data stores (their settings as the API takes them, their status and
-- the journal ranges over which they ingested), queries with their results, imports and
-- channels. The events themselves are columnar files outside this database (cairn-lake).
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS stores (
    arn            TEXT PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    name           TEXT NOT NULL,
    status         TEXT NOT NULL,
    settings       TEXT NOT NULL,               -- a JSON object: the API's members
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    tags           TEXT NOT NULL DEFAULT '{}',  -- a JSON object of strings
    ingest_ranges  TEXT NOT NULL DEFAULT '[]',  -- [[from, to|null], …] journal offsets
    deleted_ms     INTEGER
);
CREATE INDEX IF NOT EXISTS stores_by_place ON stores (account, region, name);

CREATE TABLE IF NOT EXISTS queries (
    id           TEXT PRIMARY KEY,
    account      TEXT NOT NULL,
    region       TEXT NOT NULL,
    stores       TEXT NOT NULL,                 -- a JSON array of event data store ARNs
    statement    TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    ended_ms     INTEGER,
    error        TEXT,
    stats        TEXT NOT NULL DEFAULT '{}',    -- a JSON object of counters
    delivery     TEXT,                          -- DeliveryS3Uri
    delivery_status TEXT,
    columns      TEXT                           -- a JSON array of result labels
);
CREATE INDEX IF NOT EXISTS queries_by_time ON queries (account, created_ms);

CREATE TABLE IF NOT EXISTS query_rows (
    query_id  TEXT NOT NULL,
    n         INTEGER NOT NULL,
    row       TEXT NOT NULL,                    -- a JSON array of strings and nulls
    PRIMARY KEY (query_id, n)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS documents (
    kind     TEXT NOT NULL,                     -- 'import', 'channel', 'policy'
    key      TEXT NOT NULL,
    account  TEXT NOT NULL,
    body     TEXT NOT NULL,                     -- a JSON object
    PRIMARY KEY (kind, key)
);
