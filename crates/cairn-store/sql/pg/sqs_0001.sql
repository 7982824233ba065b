-- SQS on PostgreSQL: queues and their messages, per account and region. A message's `seq`
-- orders a queue's messages in the order they were sent (or moved in from a source queue).
CREATE TABLE queues (
    account      TEXT NOT NULL,
    region       TEXT NOT NULL,
    name         TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    modified_ms  BIGINT NOT NULL,
    attributes   TEXT NOT NULL DEFAULT '{}',  -- the settable attributes, a JSON object of strings
    tags         TEXT NOT NULL DEFAULT '{}',  -- a JSON object of strings
    purged_ms    BIGINT,                      -- the last PurgeQueue (one a minute)
    PRIMARY KEY (account, region, name)
);

CREATE TABLE messages (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account           TEXT NOT NULL,
    region            TEXT NOT NULL,
    queue             TEXT NOT NULL,
    id                TEXT NOT NULL,
    body              TEXT NOT NULL,
    attributes        TEXT NOT NULL DEFAULT '{}',  -- message attributes, as sent (JSON)
    md5_body          TEXT NOT NULL,
    sender_id         TEXT NOT NULL,
    sent_ms           BIGINT NOT NULL,
    visible_ms        BIGINT NOT NULL,             -- not received before this (delay, visibility)
    receive_count     BIGINT NOT NULL DEFAULT 0,
    first_receive_ms  BIGINT,
    receipt           TEXT,                        -- the handle of the latest receive
    source_arn        TEXT                         -- the queue a dead-lettered message came from
);
CREATE INDEX messages_by_queue ON messages (account, region, queue, visible_ms, seq);
CREATE INDEX messages_by_receipt ON messages (receipt);
