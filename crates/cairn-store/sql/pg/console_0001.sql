-- The web console's sign-in state, shared by every node of a cluster (a load balancer sends a
-- browser's requests to any of them). Only a single node keeps it in memory instead, so there
-- is no SQLite twin.

-- Signed-in sessions, by the SHA-256 of their id: the id is the browser's cookie and the only
-- secret it holds, so it is never stored as it is.
CREATE TABLE console_sessions (
    id_sha256             BYTEA PRIMARY KEY,
    access_key_id         TEXT NOT NULL,      -- the session's temporary (ASIA…) credentials
    account               TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    csrf                  TEXT NOT NULL,      -- every form of the session carries it
    expires_ms            BIGINT NOT NULL,
    must_change_password  BOOLEAN NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_ms);

-- Failed sign-ins, one row per failure and key (`who:<account>/<name>`, `ip:<address>`); the
-- throttle counts those within its window, and older ones are deleted as failures come in.
CREATE TABLE signin_failures (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key    TEXT NOT NULL,
    at_ms  BIGINT NOT NULL
);
CREATE INDEX signin_failures_by_key ON signin_failures (key, at_ms);
CREATE INDEX signin_failures_by_time ON signin_failures (at_ms);
