-- avg(vector) and sum(vector), serial and parallel

SELECT avg(v) FROM unnest(ARRAY['[1,2,3]'::vector, '[3,5,7]']) v;
SELECT avg(v) FROM unnest(ARRAY['[1,2,3]'::vector, '[3,5,7]', NULL]) v;
SELECT avg(v) FROM unnest(ARRAY[]::vector[]) v;
SELECT avg(v) FROM unnest(ARRAY[NULL]::vector[]) v;
SELECT avg(v) FROM unnest(ARRAY['[1,2]'::vector, '[3]']) v;
SELECT avg(v) FROM unnest(ARRAY['[3e38]'::vector, '[3e38]']) v;
SELECT avg(v) FROM unnest(ARRAY['[1,-1]'::vector, '[2,-2]', '[4,-4]']) v;

SELECT sum(v) FROM unnest(ARRAY['[1,2,3]'::vector, '[3,5,7]']) v;
SELECT sum(v) FROM unnest(ARRAY['[1,2,3]'::vector, '[3,5,7]', NULL]) v;
SELECT sum(v) FROM unnest(ARRAY[]::vector[]) v;
SELECT sum(v) FROM unnest(ARRAY['[1,2]'::vector, '[3]']) v;
SELECT sum(v) FROM unnest(ARRAY['[3e38]'::vector, '[3e38]']) v;

-- state functions
SELECT vector_accum('{0}', '[1,2]');
SELECT vector_accum('{1,1,2}', '[3,4]');
SELECT vector_accum('{1,1,2}', '[3]');
SELECT vector_combine('{0}', '{0}');
SELECT vector_combine('{0}', '{2,4,6}');
SELECT vector_combine('{2,4,6}', '{0}');
SELECT vector_combine('{2,4,6}', '{1,1,1}');
SELECT vector_combine('{2,4,6}', '{1,1}');
SELECT vector_avg('{0}');
SELECT vector_avg('{2,4,6}');
SELECT vector_avg(array_agg(n)) FROM generate_series(1, 16002) n;

-- grouped
CREATE TABLE vector_agg_small (g int, v vector(2));
INSERT INTO vector_agg_small VALUES (1, '[1,2]'), (1, '[3,4]'), (2, '[10,20]'), (2, NULL), (3, NULL);
SELECT g, avg(v), sum(v), count(v) FROM vector_agg_small GROUP BY g ORDER BY g;
DROP TABLE vector_agg_small;

-- parallel aggregation (partial aggregates merged by the combine functions) gives the
-- serial result; integer-valued sums stay exact whatever the order
CREATE TABLE vector_agg_big (i int, v vector(3));
INSERT INTO vector_agg_big
SELECT i, ARRAY[i % 100, (i * 7) % 1000, 1]::vector FROM generate_series(1, 30000) i;
ANALYZE vector_agg_big;

SET max_parallel_workers_per_gather = 0;
SELECT avg(v), sum(v) FROM vector_agg_big;
CREATE TEMP TABLE vector_agg_serial AS SELECT avg(v) AS a, sum(v) AS s FROM vector_agg_big;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vector_agg_big;
SELECT avg(v), sum(v) FROM vector_agg_big;
SELECT p.a = s.a AS same_avg, p.s = s.s AS same_sum
FROM (SELECT avg(v) AS a, sum(v) AS s FROM vector_agg_big) p, vector_agg_serial s;
EXPLAIN (COSTS OFF) SELECT avg(v) FROM vector_agg_big WHERE i % 2 = 0;
SELECT avg(v), sum(v) FROM vector_agg_big WHERE i % 2 = 0;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT avg(v), sum(v) FROM vector_agg_big WHERE i % 2 = 0;

DROP TABLE vector_agg_big;

-- catalog
SELECT aggfnoid::regprocedure, aggtransfn, aggfinalfn, aggcombinefn, aggtranstype::regtype,
       agginitval, proparallel
FROM pg_aggregate JOIN pg_proc ON pg_proc.oid = aggfnoid
WHERE aggfnoid IN ('avg(vector)'::regprocedure, 'sum(vector)'::regprocedure)
ORDER BY aggfnoid::regprocedure::text COLLATE "C";
