-- Accounts and the credentials that act for them. The file is created with mode 0600.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS accounts (
    id         TEXT PRIMARY KEY,   -- 12 digits
    alias      TEXT,
    created_ms INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    account       TEXT NOT NULL REFERENCES accounts (id),
    principal     TEXT NOT NULL,    -- 'root' for now; IAM users and role sessions later
    status        TEXT NOT NULL DEFAULT 'Active',
    session_token TEXT,
    expires_ms    INTEGER,
    created_ms    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_keys_by_account ON access_keys (account, principal);

-- Instance-wide secrets, e.g. the key that makes pagination tokens tamper-proof.
CREATE TABLE IF NOT EXISTS instance (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
