-- AWS Organizations: each organization as one document (its root, OUs, accounts, policies and
-- where they are attached, as the Organizations service keeps them), and which organization
-- each account belongs to. Organizations are small (accounts and policies by the hundred) and
-- change rarely; a change rewrites the document inside the call's transaction.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS organizations (
    id        TEXT PRIMARY KEY,   -- o-…
    document  TEXT NOT NULL       -- JSON
);

CREATE TABLE IF NOT EXISTS members (
    account  TEXT PRIMARY KEY,    -- the management account and every member
    org      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS members_by_org ON members (org);
