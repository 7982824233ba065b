-- Moves on with every committed change to the `trails` table (a trail put or deleted), in the
-- change's own transaction, which updates it first: each node keeps its accounts' trail lists
-- under the value it read them after, and asks for the value again (once for all the calls
-- waiting) before answering from them.
CREATE TABLE trails_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO trails_generation (id, value) VALUES (1, 0);
