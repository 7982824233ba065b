-- Detections: findings the rule engine made from the journal's records, in the order made,
-- and the engine's cursor into the journal (moved in the same transaction as the findings).
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

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
