-- Labs on PostgreSQL (the same contract as sql/labs.sql).
CREATE TABLE labs (
    account   TEXT NOT NULL,
    lab       TEXT NOT NULL,
    document  TEXT NOT NULL,
    PRIMARY KEY (account, lab)
);
