-- SNS: topics, subscriptions, the durable delivery outbox (one row per message and
-- subscription, so an acknowledged Publish survives kill -9), and the signing certificate.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;

CREATE TABLE IF NOT EXISTS topics (
    arn                    TEXT PRIMARY KEY,
    account                TEXT NOT NULL,
    region                 TEXT NOT NULL,
    name                   TEXT NOT NULL,
    created_ms             INTEGER NOT NULL,
    attributes             TEXT NOT NULL DEFAULT '{}',  -- settable attributes, a JSON object of strings
    tags                   TEXT NOT NULL DEFAULT '{}',  -- a JSON object of strings
    subscriptions_deleted  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS topics_by_place ON topics (account, region, name);

CREATE TABLE IF NOT EXISTS subscriptions (
    arn         TEXT PRIMARY KEY,
    topic_arn   TEXT NOT NULL,
    owner       TEXT NOT NULL,
    protocol    TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    confirmed   INTEGER NOT NULL,
    token       TEXT,                        -- the confirmation token while pending
    attributes  TEXT NOT NULL DEFAULT '{}',  -- a JSON object of strings
    created_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions (topic_arn, created_ms);

CREATE TABLE IF NOT EXISTS outbox (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_arn  TEXT NOT NULL,
    topic_arn         TEXT NOT NULL,
    payload           TEXT NOT NULL,          -- the message to deliver, as the service describes it
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_ms           INTEGER NOT NULL,
    created_ms        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_ms, id);

CREATE TABLE IF NOT EXISTS signing (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    key_pem   TEXT NOT NULL,
    cert_pem  TEXT NOT NULL
);
