-- EventBridge: event buses (the default bus of an account and region exists without a row),
-- rules, targets, the durable stream of events put on buses (PutEvents, written in the
-- call's transaction), the outbox of target deliveries with their attempts, and the cursors
-- of the routing consumer (into the journal and into the bus stream).
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS buses (
    arn          TEXT PRIMARY KEY,
    account      TEXT NOT NULL,
    region       TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT,
    created_ms   INTEGER NOT NULL,
    modified_ms  INTEGER NOT NULL,
    tags         TEXT NOT NULL DEFAULT '{}'   -- a JSON object of strings
);
CREATE INDEX IF NOT EXISTS buses_by_place ON buses (account, region, name);

CREATE TABLE IF NOT EXISTS rules (
    arn            TEXT PRIMARY KEY,
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    bus            TEXT NOT NULL,
    name           TEXT NOT NULL,
    event_pattern  TEXT,
    schedule       TEXT,
    state          TEXT NOT NULL,
    description    TEXT,
    role_arn       TEXT,
    created_by     TEXT NOT NULL,
    created_ms     INTEGER NOT NULL,
    next_fire_ms   INTEGER,                    -- a scheduled rule's next firing
    tags           TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS rules_by_bus ON rules (account, region, bus, name);
CREATE INDEX IF NOT EXISTS rules_by_fire ON rules (next_fire_ms) WHERE next_fire_ms IS NOT NULL;

CREATE TABLE IF NOT EXISTS targets (
    rule_arn  TEXT NOT NULL,
    id        TEXT NOT NULL,
    arn       TEXT NOT NULL,
    spec      TEXT NOT NULL,                   -- the Target structure as put, JSON
    PRIMARY KEY (rule_arn, id)
);
CREATE INDEX IF NOT EXISTS targets_by_arn ON targets (arn);

CREATE TABLE IF NOT EXISTS bus_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    account     TEXT NOT NULL,
    region      TEXT NOT NULL,
    bus         TEXT NOT NULL,
    event       TEXT NOT NULL,                 -- the event as targets get it, JSON
    created_ms  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_arn    TEXT NOT NULL,
    target      TEXT NOT NULL,                 -- the Target structure when the event matched
    event       TEXT NOT NULL,                 -- the matched event
    input       TEXT NOT NULL,                 -- what the target gets
    event_ms    INTEGER NOT NULL,              -- the event's time
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_ms     INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL,
    last_error  TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_ms, id);

CREATE TABLE IF NOT EXISTS cursors (
    name      TEXT PRIMARY KEY,
    position  INTEGER NOT NULL
);
