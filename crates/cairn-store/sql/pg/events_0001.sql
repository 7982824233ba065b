-- EventBridge on PostgreSQL (the same contract as sql/events.sql): event buses (the default
-- bus of an account and region exists without a row), rules, targets, the stream of events
-- put on buses (written in the PutEvents call's transaction), the outbox of target
-- deliveries, and the routing consumer's cursors. Tables are named `event_*` / `bus_*`
-- because every store of a deployment shares one schema (SNS has an `outbox` too). Text that
-- lists are ordered by is compared byte by byte (COLLATE "C"), as SQLite does, whatever the
-- database's locale.

CREATE TABLE event_buses (
    arn          TEXT COLLATE "C" PRIMARY KEY,
    account      TEXT NOT NULL,
    region       TEXT NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    description  TEXT,
    created_ms   BIGINT NOT NULL,
    modified_ms  BIGINT NOT NULL,
    tags         TEXT NOT NULL DEFAULT '{}'   -- a JSON object of strings
);
CREATE INDEX event_buses_by_place ON event_buses (account, region, name);

CREATE TABLE event_rules (
    arn            TEXT COLLATE "C" PRIMARY KEY,
    account        TEXT NOT NULL,
    region         TEXT NOT NULL,
    bus            TEXT NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    event_pattern  TEXT,
    schedule       TEXT,
    state          TEXT NOT NULL,
    description    TEXT,
    role_arn       TEXT,
    created_by     TEXT NOT NULL,
    created_ms     BIGINT NOT NULL,
    next_fire_ms   BIGINT,                    -- a scheduled rule's next firing
    tags           TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX event_rules_by_bus ON event_rules (account, region, bus, name);
CREATE INDEX event_rules_by_fire ON event_rules (next_fire_ms) WHERE next_fire_ms IS NOT NULL;

CREATE TABLE event_targets (
    rule_arn  TEXT COLLATE "C" NOT NULL,
    id        TEXT COLLATE "C" NOT NULL,
    arn       TEXT NOT NULL,
    spec      TEXT NOT NULL,                  -- the Target structure as put, JSON
    PRIMARY KEY (rule_arn, id)
);
CREATE INDEX event_targets_by_arn ON event_targets (arn);

-- Events put on buses, numbered without gaps in commit order: a put locks the single
-- `bus_events_head` row, takes the next numbers and moves it, and holds the lock until its
-- transaction commits, so the router reading "after seq" never skips an event committed late.
CREATE TABLE bus_events_head (
    only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    next_seq  BIGINT NOT NULL
);
INSERT INTO bus_events_head (next_seq) VALUES (1);

CREATE TABLE bus_events (
    seq         BIGINT PRIMARY KEY,
    account     TEXT NOT NULL,
    region      TEXT NOT NULL,
    bus         TEXT NOT NULL,
    event       TEXT NOT NULL,                -- the event as targets get it, JSON
    created_ms  BIGINT NOT NULL
);

CREATE TABLE event_deliveries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_arn    TEXT NOT NULL,
    target      TEXT NOT NULL,                -- the Target structure when the event matched
    event       TEXT NOT NULL,                -- the matched event
    input       TEXT NOT NULL,                -- what the target gets
    event_ms    BIGINT NOT NULL,              -- the event's time
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_ms     BIGINT NOT NULL,
    created_ms  BIGINT NOT NULL,
    last_error  TEXT
);
CREATE INDEX event_deliveries_due ON event_deliveries (next_ms, id);

CREATE TABLE event_cursors (
    name      TEXT PRIMARY KEY,
    position  BIGINT NOT NULL
);
