-- Which node runs each journal consumer: a lease per consumer, renewed by its holder before it
-- expires and taken over by another node only after; `epoch` grows with each new holder, so
-- work done under an older epoch can be told apart (fencing).
CREATE TABLE consumer_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
