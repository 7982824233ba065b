-- AWS Organizations on PostgreSQL (the same contract as sql/organizations.sql): each
-- organization as one document, and which organization each account belongs to.
CREATE TABLE organizations (
    id        TEXT PRIMARY KEY,   -- o-…
    document  TEXT NOT NULL       -- JSON
);

CREATE TABLE members (
    account  TEXT PRIMARY KEY,    -- the management account and every member
    org      TEXT NOT NULL
);
CREATE INDEX members_by_org ON members (org);
