-- Event history: the index behind LookupEvents. Derived from the journal; deleting this file
-- and restarting rebuilds it. `PRAGMA user_version` marks the layout (see `schema.rs`): an
-- index of an older layout is dropped and rebuilt from the journal at start.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;

-- One row per (account, region, category) that has events.
CREATE TABLE IF NOT EXISTS scopes (
    id       INTEGER PRIMARY KEY,
    account  TEXT NOT NULL,
    region   TEXT NOT NULL,
    category TEXT NOT NULL,
    UNIQUE (account, region, category)
);

-- One row per management or Insights event; seq is the record's journal offset. The indexes
-- end in the rowid (seq) implicitly, which orders ties on t. There is no index by event id
-- here: EventId lookups go through `event_ids`, which carries seq, so each event writes one
-- random-keyed b-tree instead of two.
CREATE TABLE IF NOT EXISTS events (
    seq           INTEGER PRIMARY KEY,
    scope         INTEGER NOT NULL,
    t             INTEGER NOT NULL,  -- eventTime, ms since the epoch
    event_id      TEXT NOT NULL,
    event_name    TEXT,
    event_source  TEXT,
    username      TEXT,
    access_key_id TEXT,
    read_only     TEXT
);
CREATE INDEX IF NOT EXISTS events_by_time     ON events (scope, t);
CREATE INDEX IF NOT EXISTS events_by_name     ON events (scope, event_name, t);
CREATE INDEX IF NOT EXISTS events_by_source   ON events (scope, event_source, t);
CREATE INDEX IF NOT EXISTS events_by_username ON events (scope, username, t);
CREATE INDEX IF NOT EXISTS events_by_key      ON events (scope, access_key_id, t);
CREATE INDEX IF NOT EXISTS events_by_readonly ON events (scope, read_only, t);

-- LookupEvents' Resources; a resource with an ARN is findable by its name and by its ARN.
CREATE TABLE IF NOT EXISTS resources (
    seq    INTEGER NOT NULL,
    scope  INTEGER NOT NULL,
    t      INTEGER NOT NULL,
    rtype  TEXT,
    rname  TEXT NOT NULL,
    shown  INTEGER NOT NULL  -- 1 for the row LookupEvents lists, 0 for the ARN alias
);
CREATE INDEX IF NOT EXISTS resources_by_seq  ON resources (seq);
CREATE INDEX IF NOT EXISTS resources_by_type ON resources (scope, rtype, t, seq);
CREATE INDEX IF NOT EXISTS resources_by_name ON resources (scope, rname, t, seq);

-- Every event id in the journal, of every category, per account, with the offset of its
-- record: imports are idempotent (an id already here is not imported again), and EventId
-- lookups find their rows in `events` by seq.
CREATE TABLE IF NOT EXISTS event_ids (
    account  TEXT NOT NULL,
    event_id TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (account, event_id, seq)
) WITHOUT ROWID;

-- How far into the journal this index has read.
CREATE TABLE IF NOT EXISTS cursor (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    offset INTEGER NOT NULL
);
INSERT OR IGNORE INTO cursor (id, offset) VALUES (1, 0);
