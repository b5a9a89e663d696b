-- hnsw: answers, for each operator class, compared with exact answers
CREATE TABLE hnsw_items (id int PRIMARY KEY, v vector(4));
SELECT setseed(0.42);
INSERT INTO hnsw_items
SELECT i, ARRAY[round(random() * 20), round(random() * 20), round(random() * 20), round(random() * 20) - 10]::vector
FROM generate_series(1, 300) i;
CREATE TABLE hnsw_queries (qid int, q vector(4));
INSERT INTO hnsw_queries
SELECT i, ARRAY[round(random() * 20), round(random() * 20), round(random() * 20), round(random() * 20) - 10]::vector
FROM generate_series(1, 20) i;

-- With ef_search above the row count the search reaches every element, so the index must
-- return exactly what an exact scan returns (ties broken by id on both sides).
CREATE FUNCTION hnsw_mismatches(op text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    mismatches bigint := 0;
    query record;
    by_index float8[];
    exact float8[];
BEGIN
    FOR query IN SELECT * FROM hnsw_queries LOOP
        SET LOCAL enable_seqscan = off;
        EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s $1 AS d FROM hnsw_items ORDER BY v %s $1 LIMIT 10) s', op, op)
            INTO by_index USING query.q;
        SET LOCAL enable_seqscan = on;
        SET LOCAL enable_indexscan = off;
        EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s $1 AS d FROM hnsw_items ORDER BY v %s $1 LIMIT 10) s', op, op)
            INTO exact USING query.q;
        SET LOCAL enable_indexscan = on;
        IF by_index IS DISTINCT FROM exact THEN
            mismatches := mismatches + 1;
        END IF;
    END LOOP;
    RETURN mismatches;
END $$;

SET hnsw.ef_search = 400;
CREATE INDEX hnsw_l2 ON hnsw_items USING hnsw (v vector_l2_ops);
SELECT hnsw_mismatches('<->');
DROP INDEX hnsw_l2;
CREATE INDEX hnsw_ip ON hnsw_items USING hnsw (v vector_ip_ops);
SELECT hnsw_mismatches('<#>');
DROP INDEX hnsw_ip;
CREATE INDEX hnsw_cos ON hnsw_items USING hnsw (v vector_cosine_ops);
SELECT hnsw_mismatches('<=>');
DROP INDEX hnsw_cos;
CREATE INDEX hnsw_l1 ON hnsw_items USING hnsw (v vector_l1_ops);
SELECT hnsw_mismatches('<+>');

-- the same after inserts into the built index (now built from an empty table)
DROP INDEX hnsw_l1;
CREATE TABLE hnsw_copy (LIKE hnsw_items);
INSERT INTO hnsw_copy SELECT * FROM hnsw_items;
TRUNCATE hnsw_items;
CREATE INDEX hnsw_l2 ON hnsw_items USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
INSERT INTO hnsw_items SELECT * FROM hnsw_copy;
SELECT hnsw_mismatches('<->');

-- results come nearest first
SELECT bool_and(d >= lag_d) FROM (
    SELECT d, lag(d, 1, 0.0::float8) OVER (ORDER BY n) AS lag_d FROM (
        SELECT row_number() OVER () AS n, v <-> '[5,5,5,0]' AS d
        FROM (SELECT v FROM hnsw_items ORDER BY v <-> '[5,5,5,0]' LIMIT 50) s) t) u;

-- ef_search bounds what one scan returns, as in pgvector
SET hnsw.ef_search = 10;
SELECT count(DISTINCT v) <= 10 AS bounded FROM (SELECT v FROM hnsw_items ORDER BY v <-> '[5,5,5,0]' LIMIT 100) s;
RESET hnsw.ef_search;

-- deletes and VACUUM: deleted rows never come back, the rest are still found
DELETE FROM hnsw_items WHERE id % 3 = 0;
VACUUM hnsw_items;
SET hnsw.ef_search = 400;
SELECT count(*) FILTER (WHERE id % 3 = 0) AS deleted_returned, count(*) AS returned
FROM (SELECT id FROM hnsw_items ORDER BY v <-> '[5,5,5,0]' LIMIT 400) s;
SELECT hnsw_mismatches('<->');
-- inserts after VACUUM land in the freed space and are found
INSERT INTO hnsw_items SELECT * FROM hnsw_copy WHERE id % 3 = 0;
SELECT hnsw_mismatches('<->');

-- NULLs are not indexed; a NULL query returns rows in no particular order
INSERT INTO hnsw_items VALUES (1001, NULL);
SELECT count(*) FROM (SELECT id FROM hnsw_items ORDER BY v <-> NULL LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM hnsw_items ORDER BY v <-> '[1,1,1,1]' LIMIT 1000) s;

-- errors
SELECT id FROM hnsw_items ORDER BY v <-> '[1,2,3]' LIMIT 1;
DROP TABLE hnsw_items, hnsw_copy, hnsw_queries;
DROP FUNCTION hnsw_mismatches;

-- Without ORDER BY neither index is ever chosen, even with every other plan disabled:
-- count(*) must not become an index-only scan of a graph or of lists.
CREATE TABLE count_only (v vector(2));
INSERT INTO count_only SELECT ARRAY[i, i % 5]::vector FROM generate_series(1, 100) i;
CREATE INDEX ON count_only USING hnsw (v vector_l2_ops);
CREATE INDEX ON count_only USING ivfflat (v vector_l2_ops) WITH (lists = 2);
VACUUM count_only;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM count_only;
SELECT count(*) FROM count_only;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP TABLE count_only;

-- Rows left only in an element's overflow chain: 40 copies of one vector share an element,
-- whose first 16 rows are kept inline (the first copy and the last 15), the others in its
-- chain. With every other row deleted, VACUUM must keep that element as the entry point
-- (it used to see no live element and empty the index).
CREATE TABLE chain_only (id int, v vector(2));
INSERT INTO chain_only SELECT i, '[1,1]' FROM generate_series(1, 40) i;
INSERT INTO chain_only SELECT 100 + i, ARRAY[i, 2 * i]::vector FROM generate_series(1, 50) i;
CREATE INDEX chain_only_v ON chain_only USING hnsw (v vector_l2_ops);
DELETE FROM chain_only WHERE id = 1 OR id > 25;
VACUUM chain_only;
SET enable_seqscan = off;
SELECT count(*) AS found FROM (SELECT id FROM chain_only ORDER BY v <-> '[1,1]' LIMIT 100) s;
RESET enable_seqscan;
SELECT item, count FROM ann_index_check('chain_only_v') WHERE item IN ('elements', 'overflow tuples', 'heap TIDs');
DROP TABLE chain_only;
