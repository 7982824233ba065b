-- The journal on PostgreSQL: one row per entry, numbered without gaps by `journal_head`
-- (whose row lock every append holds until it commits, so entries become visible in order),
-- partitioned by ranges of positions so that retention drops whole partitions.
CREATE TABLE journal_head (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    next_pos BIGINT NOT NULL,
    -- Entries per partition, fixed once the first entry is written (every node reads it).
    partition_entries BIGINT NOT NULL DEFAULT 1048576 CHECK (partition_entries > 0)
);
INSERT INTO journal_head (next_pos) VALUES (0);

CREATE TABLE journal (
    pos BIGINT NOT NULL,
    payload BYTEA NOT NULL,
    written_ms BIGINT NOT NULL,
    PRIMARY KEY (pos)
) PARTITION BY RANGE (pos);
