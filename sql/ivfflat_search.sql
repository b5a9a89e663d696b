-- ivfflat: answers for each operator class compared with exact answers, inserts, VACUUM,
-- NULLs, zero vectors, duplicates, small and empty tables, scans beyond work_mem
CREATE TABLE ivf_items (id int PRIMARY KEY, v vector(4));
SELECT setseed(0.42);
INSERT INTO ivf_items
SELECT i, ARRAY[round(random() * 20), round(random() * 20), round(random() * 20), round(random() * 20) - 10]::vector
FROM generate_series(1, 1000) i;
CREATE TABLE ivf_queries (qid int, q vector(4));
INSERT INTO ivf_queries
SELECT i, ARRAY[round(random() * 20), round(random() * 20), round(random() * 20), round(random() * 20) - 10]::vector
FROM generate_series(1, 20) i;

-- Queries whose 10 nearest distances through the index differ from an exact scan's (to 9
-- decimals: the index ranks cosine in float on normalised vectors, SQL computes it in double,
-- and a near tie may fall either way).
CREATE FUNCTION ivf_mismatches(op text, n int DEFAULT 10) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    mismatches bigint := 0;
    query record;
    by_index numeric[];
    exact numeric[];
BEGIN
    FOR query IN SELECT * FROM ivf_queries LOOP
        SET LOCAL enable_seqscan = off;
        EXECUTE format('SELECT array_agg(round(d::numeric, 9)) FROM (SELECT v %s $1 AS d FROM ivf_items ORDER BY v %s $1 LIMIT %s) s', op, op, n)
            INTO by_index USING query.q;
        SET LOCAL enable_seqscan = on;
        SET LOCAL enable_indexscan = off;
        EXECUTE format('SELECT array_agg(round(d::numeric, 9)) FROM (SELECT v %s $1 AS d FROM ivf_items ORDER BY v %s $1 LIMIT %s) s', op, op, n)
            INTO exact USING query.q;
        SET LOCAL enable_indexscan = on;
        IF by_index IS DISTINCT FROM exact THEN
            mismatches := mismatches + 1;
        END IF;
    END LOOP;
    RETURN mismatches;
END $$;

-- Probing every list, the index must return exactly what an exact scan returns, in order.
SET ivfflat.probes = 20;
CREATE INDEX ivf_l2 ON ivf_items USING ivfflat (v vector_l2_ops) WITH (lists = 20);
SELECT ivf_mismatches('<->');
DROP INDEX ivf_l2;
CREATE INDEX ivf_ip ON ivf_items USING ivfflat (v vector_ip_ops) WITH (lists = 20);
SELECT ivf_mismatches('<#>');
DROP INDEX ivf_ip;
CREATE INDEX ivf_cos ON ivf_items USING ivfflat (v vector_cosine_ops) WITH (lists = 20);
SELECT ivf_mismatches('<=>');

-- With one probe, a query for a stored vector still finds it first (it is in the list of
-- its nearest centre), and rows come nearest first.
SET ivfflat.probes = 1;
DROP INDEX ivf_cos;
CREATE INDEX ivf_l2 ON ivf_items USING ivfflat (v vector_l2_ops) WITH (lists = 20);
SET enable_seqscan = off;
SELECT count(*) FROM ivf_items i
WHERE (SELECT j.v <-> i.v FROM ivf_items j ORDER BY j.v <-> i.v LIMIT 1) <> 0;
SELECT bool_and(d >= prev) FROM (
    SELECT d, lag(d, 1, 0::float8) OVER () AS prev FROM (
        SELECT v <-> '[10,10,10,0]' AS d FROM ivf_items ORDER BY v <-> '[10,10,10,0]') s) t;
-- Without LIMIT a scan returns the rows of the probed lists only: fewer than all, more than none.
SELECT count(*) BETWEEN 1 AND 999 FROM (SELECT id FROM ivf_items ORDER BY v <-> '[10,10,10,0]') s;
RESET enable_seqscan;

-- more probes never find fewer of the exact neighbours
SET ivfflat.probes = 1;
SELECT ivf_mismatches('<->') AS probes_1 \gset
SET ivfflat.probes = 5;
SELECT ivf_mismatches('<->') AS probes_5 \gset
SELECT :probes_1 >= :probes_5 AND :probes_1 > 0 AS more_probes_help;

-- inserts into a built index (built on an empty table) and deletes with VACUUM
SET ivfflat.probes = 20;
CREATE TABLE ivf_copy AS SELECT * FROM ivf_items;
TRUNCATE ivf_items;
DROP INDEX ivf_l2;
CREATE INDEX ivf_l2 ON ivf_items USING ivfflat (v vector_l2_ops) WITH (lists = 20);
INSERT INTO ivf_items SELECT * FROM ivf_copy;
SELECT ivf_mismatches('<->');
DELETE FROM ivf_items WHERE id % 3 = 0;
VACUUM ivf_items;
SELECT ivf_mismatches('<->');
SET enable_seqscan = off;
SELECT count(*), count(*) FILTER (WHERE id % 3 = 0) FROM (SELECT id FROM ivf_items ORDER BY v <-> '[1,2,3,4]') s;
RESET enable_seqscan;
-- VACUUM's freed space is reused before lists grow
SELECT pg_relation_size('ivf_l2') AS size_before \gset
INSERT INTO ivf_items SELECT id + 1000, v FROM ivf_copy WHERE id % 3 = 0;
SELECT pg_relation_size('ivf_l2') = :size_before AS no_growth;
SELECT ivf_mismatches('<->');

-- a scan needing more than work_mem takes several passes and still returns every row in order
SET work_mem = 64;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ivf_items ORDER BY v <-> '[5,5,5,5]') s;
SELECT array_agg(id) AS by_index FROM (SELECT id FROM ivf_items ORDER BY v <-> '[5,5,5,5]', id) s \gset
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT array_agg(id) = :'by_index' AS same_order
FROM (SELECT id FROM ivf_items ORDER BY v <-> '[5,5,5,5]', id) s;
RESET enable_indexscan;
RESET work_mem;
DROP TABLE ivf_items, ivf_copy, ivf_queries;
DROP FUNCTION ivf_mismatches(text, int);

-- NULLs are not indexed; a NULL query returns the indexed rows, ranked equal
CREATE TABLE ivf_nulls (id int, v vector(2));
INSERT INTO ivf_nulls VALUES (1, '[1,1]'), (2, NULL), (3, '[2,2]');
CREATE INDEX ON ivf_nulls USING ivfflat (v vector_l2_ops) WITH (lists = 2);
INSERT INTO ivf_nulls VALUES (4, NULL), (5, '[3,3]');
SET enable_seqscan = off;
SELECT id FROM ivf_nulls ORDER BY v <-> '[0,0]' LIMIT 10;
SELECT count(*) FROM (SELECT id FROM ivf_nulls ORDER BY v <-> NULL LIMIT 10) s;
RESET enable_seqscan;
DROP TABLE ivf_nulls;

-- zero vectors are not indexed under cosine (their distance is NaN)
CREATE TABLE ivf_zero (id int, v vector(2));
INSERT INTO ivf_zero VALUES (1, '[0,0]'), (2, '[1,0]'), (3, '[0,1]');
CREATE INDEX ON ivf_zero USING ivfflat (v vector_cosine_ops) WITH (lists = 2);
INSERT INTO ivf_zero VALUES (4, '[0,0]'), (5, '[1,1]');
SET enable_seqscan = off;
SET ivfflat.probes = 2;
SELECT id FROM ivf_zero ORDER BY v <=> '[1,0.1]' LIMIT 10;
SELECT count(*) FROM (SELECT id FROM ivf_zero ORDER BY v <=> '[0,0]' LIMIT 10) s;
RESET ivfflat.probes;
RESET enable_seqscan;
DROP TABLE ivf_zero;

-- duplicates: every copy is returned
CREATE TABLE ivf_dupes (id int, v vector(2));
INSERT INTO ivf_dupes SELECT i, '[1,1]' FROM generate_series(1, 100) i;
INSERT INTO ivf_dupes SELECT 100 + i, ARRAY[i, 0]::vector FROM generate_series(1, 20) i;
CREATE INDEX ON ivf_dupes USING ivfflat (v vector_l2_ops) WITH (lists = 10);
INSERT INTO ivf_dupes SELECT 200 + i, '[1,1]' FROM generate_series(1, 30) i;
SET enable_seqscan = off;
SET ivfflat.probes = 10;
SELECT count(*) FROM (SELECT id FROM ivf_dupes ORDER BY v <-> '[1,1]' LIMIT 130) s WHERE id <= 100 OR id > 200;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM ivf_dupes ORDER BY v <-> '[20,0]' LIMIT 3) s;
RESET ivfflat.probes;
RESET enable_seqscan;
DROP TABLE ivf_dupes;

-- fewer rows than lists, and an empty table: a NOTICE, then a working index
CREATE TABLE ivf_small (id int, v vector(3));
INSERT INTO ivf_small VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, '[1,2,3]');
CREATE INDEX ON ivf_small USING ivfflat (v vector_l2_ops) WITH (lists = 10);
SET enable_seqscan = off;
SET ivfflat.probes = 10;
SELECT id FROM ivf_small ORDER BY v <-> '[4,5,5]', id LIMIT 5;
CREATE TABLE ivf_empty (id int, v vector(3));
CREATE INDEX ivf_empty_idx ON ivf_empty USING ivfflat (v vector_cosine_ops) WITH (lists = 5);
SELECT id FROM ivf_empty ORDER BY v <=> '[1,2,3]' LIMIT 5;
INSERT INTO ivf_empty SELECT i, ARRAY[i, 1, 1]::vector FROM generate_series(1, 30) i;
SELECT id FROM ivf_empty ORDER BY v <=> '[20,1,1]' LIMIT 3;
-- a query of the wrong dimensions
SELECT id FROM ivf_empty ORDER BY v <=> '[1,2]' LIMIT 3;
RESET ivfflat.probes;
RESET enable_seqscan;
DROP TABLE ivf_small, ivf_empty;

-- unlogged tables, TRUNCATE, REINDEX, CREATE INDEX CONCURRENTLY
CREATE UNLOGGED TABLE ivf_unlogged (id int, v vector(3));
CREATE INDEX ivf_unlogged_idx ON ivf_unlogged USING ivfflat (v vector_l2_ops) WITH (lists = 3);
SELECT relpersistence FROM pg_class WHERE relname = 'ivf_unlogged_idx';
INSERT INTO ivf_unlogged SELECT i, ARRAY[i, i, i]::vector FROM generate_series(1, 50) i;
SET enable_seqscan = off;
SET ivfflat.probes = 3;
SELECT id FROM ivf_unlogged ORDER BY v <-> '[10,10,10.5]' LIMIT 3;
TRUNCATE ivf_unlogged;
SELECT id FROM ivf_unlogged ORDER BY v <-> '[10,10,10.5]' LIMIT 3;
INSERT INTO ivf_unlogged SELECT i, ARRAY[i, i, i]::vector FROM generate_series(1, 50) i;
REINDEX INDEX ivf_unlogged_idx;
SELECT id FROM ivf_unlogged ORDER BY v <-> '[20,20,20.5]' LIMIT 3;
DROP TABLE ivf_unlogged;

CREATE TABLE ivf_concurrently (id int, v vector(3));
INSERT INTO ivf_concurrently SELECT i, ARRAY[i, 0, 0]::vector FROM generate_series(1, 50) i;
CREATE INDEX CONCURRENTLY ivf_concurrently_idx ON ivf_concurrently USING ivfflat (v vector_l2_ops) WITH (lists = 3);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'ivf_concurrently_idx'::regclass;
REINDEX INDEX CONCURRENTLY ivf_concurrently_idx;
SELECT id FROM ivf_concurrently ORDER BY v <-> '[7.2,0,0]' LIMIT 3;
RESET ivfflat.probes;
RESET enable_seqscan;
DROP TABLE ivf_concurrently;
