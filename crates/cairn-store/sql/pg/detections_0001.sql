-- Detections on PostgreSQL (the same contract as sql/detections.sql).
CREATE TABLE findings (
    seq         BIGSERIAL PRIMARY KEY,
    account     TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    document    TEXT NOT NULL
);
CREATE INDEX findings_by_account ON findings (account, seq);

CREATE TABLE detection_cursor (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    position  BIGINT NOT NULL
);
