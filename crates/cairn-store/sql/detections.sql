-- Detections: findings the rule engine made from the journal's records, in the order made,
-- and the engine's cursor into the journal (moved in the same transaction as the findings).
-- NORMAL, not FULL: a power loss may take the last findings back, but always with the cursor
-- move that made them (one transaction), and the engine makes them again from the journal.
-- FULL cost an fsync for every batch the engine read, competing with the journal's own.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;

CREATE TABLE IF NOT EXISTS findings (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    account     TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    document    TEXT NOT NULL          -- JSON (cairn_store::detections::Finding)
);
CREATE INDEX IF NOT EXISTS findings_by_account ON findings (account, seq);

CREATE TABLE IF NOT EXISTS cursor (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    position  INTEGER NOT NULL
);
