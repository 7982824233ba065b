-- CloudTrail Lake's metadata on PostgreSQL (the same contract as sql/lake.sql): event data
-- stores, queries with their result rows, and the documents of imports and channels.
CREATE TABLE stores (
    arn            TEXT PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    name           TEXT NOT NULL,
    status         TEXT NOT NULL,
    settings       TEXT NOT NULL,               -- a JSON object: the API's members
    created_ms     BIGINT NOT NULL,
    updated_ms     BIGINT NOT NULL,
    tags           TEXT NOT NULL DEFAULT '{}',  -- a JSON object of strings
    ingest_ranges  TEXT NOT NULL DEFAULT '[]',  -- [[from, to|null], …] journal offsets
    deleted_ms     BIGINT
);
CREATE INDEX stores_by_place ON stores (account, region, name);

CREATE TABLE queries (
    id              TEXT PRIMARY KEY,
    account         TEXT NOT NULL,
    region          TEXT NOT NULL,
    stores          TEXT NOT NULL,              -- a JSON array of event data store ARNs
    statement       TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    ended_ms        BIGINT,
    error           TEXT,
    stats           TEXT NOT NULL DEFAULT '{}', -- a JSON object of counters
    delivery        TEXT,                       -- DeliveryS3Uri
    delivery_status TEXT,
    columns         TEXT                        -- a JSON array of result labels
);
CREATE INDEX queries_by_time ON queries (account, created_ms);
CREATE INDEX queries_by_status ON queries (status, created_ms);

CREATE TABLE query_rows (
    query_id  TEXT NOT NULL,
    n         BIGINT NOT NULL,
    row       TEXT NOT NULL,                    -- a JSON array of strings and nulls
    PRIMARY KEY (query_id, n)
);

CREATE TABLE documents (
    kind     TEXT NOT NULL,                     -- 'import', 'channel', 'policy'
    key      TEXT NOT NULL,
    account  TEXT NOT NULL,
    body     TEXT NOT NULL,                     -- a JSON object
    PRIMARY KEY (kind, key)
);
CREATE INDEX documents_by_account ON documents (kind, account, key);
