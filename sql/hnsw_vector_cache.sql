-- hnsw: scans rank neighbours by the session's half-precision copy of the vectors they read
-- before (hnsw.vector_cache_size). The copy must never change an answer: not when it is full
-- or off, not where halves cannot tell vectors apart or hold them at all, not after VACUUM
-- freed elements whose slots new rows then took, and not after an index was rebuilt in place.
CREATE TABLE hnsw_cache (id int, v vector(3));
INSERT INTO hnsw_cache SELECT i, ARRAY[sin(i * 0.7), cos(i * 1.3), sin(i * 2.1)] FROM generate_series(1, 300) i;
CREATE INDEX hnsw_cache_v ON hnsw_cache USING hnsw (v vector_l2_ops) WITH (m = 4);
SHOW hnsw.vector_cache_size;
SET hnsw.vector_cache_size = -1;
SET hnsw.vector_cache_size = '64kB';
SHOW hnsw.vector_cache_size;
RESET hnsw.vector_cache_size;
CREATE TABLE hnsw_cache_queries (q int, v vector(3));
INSERT INTO hnsw_cache_queries SELECT q, ARRAY[cos(q * 0.9), sin(q * 1.7), cos(q * 0.4)] FROM generate_series(1, 20) q;

-- Queries whose five nearest rows from the index differ from the exact ones, or come in
-- another order. With ef_search above the row count every search sees every row.
CREATE FUNCTION hnsw_cache_wrong_answers() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM hnsw_cache_queries q
    WHERE ARRAY(SELECT id FROM hnsw_cache ORDER BY v <-> q.v LIMIT 5) IS DISTINCT FROM
          ARRAY(SELECT id FROM hnsw_cache ORDER BY (v <-> q.v) + 0 LIMIT 5)
$$;
SET enable_seqscan = off;
SET hnsw.ef_search = 400;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_cache ORDER BY v <-> '[0,0,0]' LIMIT 5;

-- The first pass fills the copy, the second ranks from it.
SELECT hnsw_cache_wrong_answers() AS filling, hnsw_cache_wrong_answers() AS cached;
SET hnsw.vector_cache_size = '20kB';
SELECT hnsw_cache_wrong_answers() AS cache_too_small;
SET hnsw.vector_cache_size = 0;
SELECT hnsw_cache_wrong_answers() AS cache_off;
RESET hnsw.vector_cache_size;
SELECT hnsw_cache_wrong_answers() AS cache_back_on;

-- Vectors a few hundredths of a half's precision apart: the copy ranks many alike, yet
-- rows come out in the order of their float vectors.
CREATE TABLE hnsw_cache_close (id int, v vector(2));
INSERT INTO hnsw_cache_close SELECT i, ARRAY[1 + i * 1e-5, 1 - i * 1e-5] FROM generate_series(1, 100) i;
CREATE INDEX ON hnsw_cache_close USING hnsw (v vector_l2_ops) WITH (m = 4);
SELECT ARRAY(SELECT id FROM hnsw_cache_close ORDER BY v <-> '[1,1]' LIMIT 5) AS filling,
       ARRAY(SELECT id FROM hnsw_cache_close ORDER BY v <-> '[1,1]' LIMIT 5) AS cached,
       ARRAY(SELECT id FROM hnsw_cache_close ORDER BY v <-> '[1.002,0.998]' LIMIT 5) AS other_end;
SET hnsw.iterative_scan = strict_order;
SET hnsw.ef_search = 10;
SELECT count(*) AS out_of_order FROM (
    SELECT v <-> '[1,1]' AS d, lag(v <-> '[1,1]') OVER (ORDER BY n) AS previous
    FROM (SELECT v, row_number() OVER () AS n FROM
          (SELECT v FROM hnsw_cache_close ORDER BY v <-> '[1,1]' LIMIT 60) s) numbered
) pairs WHERE d < previous;
RESET hnsw.iterative_scan;
SET hnsw.ef_search = 400;

-- Vectors halves cannot hold (beyond their range) or hold only coarsely (all values tiny)
-- are ranked by their floats, among others ranked by halves.
CREATE TABLE hnsw_cache_range (id int, v vector(2));
INSERT INTO hnsw_cache_range SELECT i, ARRAY[i * 1e5, -i * 1e5] FROM generate_series(1, 50) i;
INSERT INTO hnsw_cache_range SELECT 100 + i, ARRAY[i * 1e-7, i * 1e-7] FROM generate_series(1, 50) i;
INSERT INTO hnsw_cache_range SELECT 200 + i, ARRAY[i * 0.01, i * 0.01] FROM generate_series(1, 50) i;
CREATE INDEX ON hnsw_cache_range USING hnsw (v vector_l2_ops) WITH (m = 4);
SELECT q, ARRAY(SELECT id FROM hnsw_cache_range ORDER BY v <-> q LIMIT 3) AS filling,
       ARRAY(SELECT id FROM hnsw_cache_range ORDER BY v <-> q LIMIT 3) AS cached
FROM unnest(ARRAY['[2.04e6,-2.04e6]', '[1.03e-6,1.03e-6]', '[0,0]', '[0.123,0.123]']::vector[]) q;

-- Every element freed, and its slot taken by a row with another vector: the copy the
-- session holds from before must not be used.
SELECT pg_relation_size('hnsw_cache_v') AS size_before \gset
DELETE FROM hnsw_cache;
VACUUM hnsw_cache;
INSERT INTO hnsw_cache SELECT 1000 + i, ARRAY[cos(i * 1.1), sin(i * 0.3), cos(i * 2.9)] FROM generate_series(1, 300) i;
SELECT pg_relation_size('hnsw_cache_v') = :size_before AS slots_reused;
SELECT hnsw_cache_wrong_answers() AS after_reuse;
SELECT count(*) AS rows_found FROM hnsw_cache_queries q,
    LATERAL (SELECT id FROM hnsw_cache ORDER BY v <-> q.v LIMIT 5) s;

-- A query over partitions scans one index per partition side by side, each with its cache;
-- with room for about one, they make room for each other.
CREATE TABLE hnsw_cache_parts (id int, v vector(3)) PARTITION BY RANGE (id);
CREATE TABLE hnsw_cache_part1 PARTITION OF hnsw_cache_parts FOR VALUES FROM (0) TO (150);
CREATE TABLE hnsw_cache_part2 PARTITION OF hnsw_cache_parts FOR VALUES FROM (150) TO (300);
INSERT INTO hnsw_cache_parts SELECT i, ARRAY[sin(i * 0.7), cos(i * 1.3), sin(i * 2.1)] FROM generate_series(0, 299) i;
CREATE INDEX ON hnsw_cache_parts USING hnsw (v vector_l2_ops) WITH (m = 4);
CREATE FUNCTION hnsw_cache_parts_wrong_answers() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM hnsw_cache_queries q
    WHERE ARRAY(SELECT id FROM hnsw_cache_parts ORDER BY v <-> q.v LIMIT 5) IS DISTINCT FROM
          ARRAY(SELECT id FROM hnsw_cache_parts ORDER BY (v <-> q.v) + 0 LIMIT 5)
$$;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_cache_parts ORDER BY v <-> '[0,0,0]' LIMIT 5;
SELECT hnsw_cache_parts_wrong_answers() AS partitions, hnsw_cache_parts_wrong_answers() AS partitions_cached;
SET hnsw.vector_cache_size = '24kB';
SELECT hnsw_cache_parts_wrong_answers() AS partitions_taking_turns;
RESET hnsw.vector_cache_size;

-- TRUNCATE in the transaction that created the table rebuilds the index in the same file.
BEGIN;
CREATE TABLE hnsw_cache_rebuilt (id int, v vector(2));
CREATE INDEX ON hnsw_cache_rebuilt USING hnsw (v vector_l2_ops);
INSERT INTO hnsw_cache_rebuilt SELECT i, ARRAY[i, 0] FROM generate_series(1, 50) i;
SELECT id FROM hnsw_cache_rebuilt ORDER BY v <-> '[10.3,0]' LIMIT 3;
TRUNCATE hnsw_cache_rebuilt;
INSERT INTO hnsw_cache_rebuilt SELECT i, ARRAY[0, 100 - i] FROM generate_series(1, 50) i;
SELECT id FROM hnsw_cache_rebuilt ORDER BY v <-> '[0,70.4]' LIMIT 3;
COMMIT;

RESET enable_seqscan;
RESET hnsw.ef_search;
DROP TABLE hnsw_cache, hnsw_cache_queries, hnsw_cache_rebuilt, hnsw_cache_parts, hnsw_cache_close, hnsw_cache_range;
DROP FUNCTION hnsw_cache_wrong_answers(), hnsw_cache_parts_wrong_answers();
