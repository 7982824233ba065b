-- Labs: each account's progress through cairn's exercises (one JSON document per lab).
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS labs (
    account   TEXT NOT NULL,
    lab       TEXT NOT NULL,
    document  TEXT NOT NULL,          -- JSON (cairn_store::labs::Progress)
    PRIMARY KEY (account, lab)
);
