-- SNS on PostgreSQL: topics, subscriptions, the durable delivery outbox (one row per message
-- and subscription, written with the Publish call's record) and the signing certificate.
CREATE TABLE topics (
    arn                    TEXT PRIMARY KEY,
    account                TEXT NOT NULL,
    region                 TEXT NOT NULL,
    name                   TEXT NOT NULL,
    created_ms             BIGINT NOT NULL,
    attributes             TEXT NOT NULL DEFAULT '{}',  -- settable attributes, a JSON object of strings
    tags                   TEXT NOT NULL DEFAULT '{}',  -- a JSON object of strings
    subscriptions_deleted  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX topics_by_place ON topics (account, region, name);

CREATE TABLE subscriptions (
    arn         TEXT PRIMARY KEY,
    topic_arn   TEXT NOT NULL,
    owner       TEXT NOT NULL,
    protocol    TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    confirmed   BOOLEAN NOT NULL,
    token       TEXT,                        -- the confirmation token while pending
    attributes  TEXT NOT NULL DEFAULT '{}',  -- a JSON object of strings
    created_ms  BIGINT NOT NULL
);
CREATE INDEX subscriptions_by_topic ON subscriptions (topic_arn, created_ms);

CREATE TABLE outbox (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_arn  TEXT NOT NULL,
    topic_arn         TEXT NOT NULL,
    payload           TEXT NOT NULL,          -- the message to deliver, as the service describes it
    attempts          BIGINT NOT NULL DEFAULT 0,
    next_ms           BIGINT NOT NULL,
    created_ms        BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_ms, id);

CREATE TABLE signing (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    key_pem   TEXT NOT NULL,
    cert_pem  TEXT NOT NULL
);
