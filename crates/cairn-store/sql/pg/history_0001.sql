-- Event history on PostgreSQL (the same contract as sql/history.sql): the index behind
-- LookupEvents, derived from the journal. Tables are named `history_*` because every store of
-- a deployment shares one schema (the logs and lake stores have events and stores of their
-- own). A later layout that cannot be migrated in place may empty these tables and set the
-- cursor back to 0: the journal's consumer rebuilds the index from there.

-- One row per (account, region, category) that has events. Rows are never changed or
-- deleted, so every node may remember the ids it has seen committed.
CREATE TABLE history_scopes (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    category  TEXT NOT NULL,
    UNIQUE (account, region, category)
);

-- One row per management or Insights event; seq is the record's journal offset. Every lookup
-- index ends in (t, seq): pages are keyset pages over (t, seq), newest first.
CREATE TABLE history_events (
    seq            BIGINT PRIMARY KEY,
    scope          BIGINT NOT NULL,
    t              BIGINT NOT NULL,  -- eventTime, ms since the epoch
    event_id       TEXT NOT NULL,
    event_name     TEXT,
    event_source   TEXT,
    username       TEXT,
    access_key_id  TEXT,
    read_only      TEXT
);
CREATE INDEX history_events_by_time     ON history_events (scope, t, seq);
CREATE INDEX history_events_by_name     ON history_events (scope, event_name, t, seq);
CREATE INDEX history_events_by_source   ON history_events (scope, event_source, t, seq);
CREATE INDEX history_events_by_username ON history_events (scope, username, t, seq);
CREATE INDEX history_events_by_key      ON history_events (scope, access_key_id, t, seq);
CREATE INDEX history_events_by_readonly ON history_events (scope, read_only, t, seq);

-- LookupEvents' Resources; a resource with an ARN is findable by its name and by its ARN.
-- `id` keeps the order an event's resources were written in (SQLite's rowid).
CREATE TABLE history_resources (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq    BIGINT NOT NULL,
    scope  BIGINT NOT NULL,
    t      BIGINT NOT NULL,
    rtype  TEXT,
    rname  TEXT NOT NULL,
    shown  BOOLEAN NOT NULL  -- the row LookupEvents lists; false for the ARN alias
);
CREATE INDEX history_resources_by_seq  ON history_resources (seq);
CREATE INDEX history_resources_by_type ON history_resources (scope, rtype, t, seq);
CREATE INDEX history_resources_by_name ON history_resources (scope, rname, t, seq);

-- Every event id in the journal, of every category, per account, with the offset of its
-- record: imports are idempotent, and EventId lookups find their rows by seq.
CREATE TABLE history_event_ids (
    account   TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (account, event_id, seq)
);

-- How far into the journal the index has read. Indexing locks this row until it commits, so
-- nodes indexing at once take turns and none indexes an entry another already has.
CREATE TABLE history_cursor (
    only_row     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    next_offset  BIGINT NOT NULL
);
INSERT INTO history_cursor (next_offset) VALUES (0);
