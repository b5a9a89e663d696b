-- Distance-bounded hnsw scans: `WHERE v <-> q < r ORDER BY v <-> q LIMIT k`. An iterative
-- scan reads the bound from its WHERE clause and stops searching where no element can be
-- within it, instead of walking its whole budget for rows that do not exist. The answers
-- must equal the exact ones, whether the bound admits fewer rows than the LIMIT or more.
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- 6,000 points on a spiral (deterministic), one in ten in each category.
CREATE TABLE items (id int PRIMARY KEY, category int, v vector(3));
INSERT INTO items
SELECT i, i % 10, ARRAY[cos(i * 0.37) * (1 + i % 7), sin(i * 0.37) * (1 + i % 5), (i % 11) - 5.0]::real[]::vector
FROM generate_series(1, 6000) i;
CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 40);
CREATE INDEX items_cos ON items USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 40);
CREATE INDEX items_ip ON items USING hnsw (v vector_ip_ops) WITH (m = 8, ef_construction = 40);

-- The exact answer, to compare with: ids in distance order.
CREATE FUNCTION exact_ids(op text, filter text, lim int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE result int[];
BEGIN
    SET LOCAL enable_indexscan = off;
    SET LOCAL enable_seqscan = on;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM items WHERE %s
                    ORDER BY v %s ''[1,1,1]'', id LIMIT %s) s', filter, op, lim) INTO result;
    RETURN result;
END $$;

-- Index blocks the scan read, from EXPLAIN (ANALYZE, BUFFERS).
CREATE FUNCTION blocks_read(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Shared Hit Blocks')::int
         + (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Shared Read Blocks')::int;
END $$;

SET hnsw.ef_search = 10;
SET hnsw.iterative_scan = relaxed_order;

-- The bound is no filter the executor has to apply row by row: the index hands out only rows
-- within it.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM items WHERE v <-> '[1,1,1]' < 1.2 ORDER BY v <-> '[1,1,1]' LIMIT 100;
-- Fewer rows than the LIMIT within the bound, and more.
SELECT r, count(*) AS rows, array_agg(id) = exact_ids('<->', 'v <-> ''[1,1,1]'' < ' || r, 100) AS exact
FROM (VALUES (0.5), (1.2), (2.0)) b(r)
CROSS JOIN LATERAL (SELECT id FROM items WHERE v <-> '[1,1,1]' < r ORDER BY v <-> '[1,1,1]' LIMIT 100) s
GROUP BY r ORDER BY r;

-- Nothing within the bound: no rows, and the scan stops after its first search. Without the
-- bound it would check at least 512 elements' rows before answering from the table.
SELECT count(*) AS rows FROM (SELECT id FROM items WHERE v <-> '[1,1,1]' < 0.01 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SELECT blocks_read('SELECT id FROM items WHERE v <-> ''[1,1,1]'' < 0.01 ORDER BY v <-> ''[1,1,1]'' LIMIT 10') < 512
    AS stops_early;
SELECT count(*) AS rows FROM (SELECT id FROM items WHERE v <-> '[1,1,1]' < -1 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SELECT count(*) AS rows FROM (SELECT id FROM items WHERE v <-> '[1,1,1]' < NULL::float8 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- <= keeps a row exactly at the bound; the bound on the left (r > distance); a float4 bound;
-- a bound from an initplan; the bound with another filter, in strict order.
SELECT array_agg(id) = exact_ids('<->', 'v <-> ''[1,1,1]'' <= (SELECT v <-> ''[1,1,1]'' FROM items ORDER BY 1 LIMIT 1 OFFSET 6)', 100) AS exact,
       count(*) AS rows
FROM (SELECT id FROM items
      WHERE v <-> '[1,1,1]' <= (SELECT v <-> '[1,1,1]' FROM items ORDER BY 1 LIMIT 1 OFFSET 6)
      ORDER BY v <-> '[1,1,1]' LIMIT 100) s;
SELECT array_agg(id) = exact_ids('<->', '1.2 > v <-> ''[1,1,1]''', 100) AS exact
FROM (SELECT id FROM items WHERE 1.2 > v <-> '[1,1,1]' ORDER BY v <-> '[1,1,1]' LIMIT 100) s;
SELECT array_agg(id) = exact_ids('<->', 'v <-> ''[1,1,1]'' < 1.2::real', 100) AS exact
FROM (SELECT id FROM items WHERE v <-> '[1,1,1]' < 1.2::real ORDER BY v <-> '[1,1,1]' LIMIT 100) s;
SET hnsw.iterative_scan = strict_order;
SELECT array_agg(id) = exact_ids('<->', 'category = 3 AND v <-> ''[1,1,1]'' < 2', 100) AS exact, count(*) AS rows
FROM (SELECT id FROM items WHERE category = 3 AND v <-> '[1,1,1]' < 2 ORDER BY v <-> '[1,1,1]' LIMIT 100) s;
SET hnsw.iterative_scan = relaxed_order;

-- A generic plan's bound.
SET plan_cache_mode = force_generic_plan;
PREPARE bounded(vector, float8) AS SELECT id FROM items WHERE v <-> $1 < $2 ORDER BY v <-> $1 LIMIT 100;
CREATE TEMP TABLE executed AS EXECUTE bounded('[1,1,1]', 1.2);
SELECT array_agg(id) = exact_ids('<->', 'v <-> ''[1,1,1]'' < 1.2', 100) AS exact FROM executed;
RESET plan_cache_mode;

-- Cosine distance (<=> is 1 - cos, which the index ranks as -cos) and negative inner product.
DROP INDEX items_l2;
SELECT array_agg(id) = exact_ids('<=>', 'v <=> ''[1,1,1]'' < 0.01', 100) AS exact, count(*) AS rows
FROM (SELECT id FROM items WHERE v <=> '[1,1,1]' < 0.01 ORDER BY v <=> '[1,1,1]' LIMIT 100) s;
SELECT array_agg(id) = exact_ids('<#>', 'v <#> ''[1,1,1]'' < -12', 100) AS exact, count(*) AS rows
FROM (SELECT id FROM items WHERE v <#> '[1,1,1]' < -12 ORDER BY v <#> '[1,1,1]' LIMIT 100) s;

-- A bound on another distance than the one ordered by is an ordinary filter.
SELECT array_agg(id) = exact_ids('<=>', 'v <-> ''[1,1,1]'' < 2', 20) AS exact
FROM (SELECT id FROM items WHERE v <-> '[1,1,1]' < 2 ORDER BY v <=> '[1,1,1]' LIMIT 20) s;

DROP FUNCTION blocks_read;
DROP FUNCTION exact_ids;
DROP TABLE items;

-- A row-level security policy that bounds the distance: a leaky function in the query must
-- not see a row the policy hides, not even one just outside the bound, which the index
-- (testing the bound with some tolerance) would otherwise check against the filter.
CREATE ROLE regress_ann_reader;
CREATE TABLE guarded (id int, v vector(2), secret text);
INSERT INTO guarded SELECT i, ARRAY[i * 0.1, 0]::vector, 'inside ' || i FROM generate_series(0, 14) i;
INSERT INTO guarded VALUES (100, '[1.50005,0]', 'outside, just beyond the bound');
INSERT INTO guarded SELECT 200 + i, ARRAY[5 + i, 5]::vector, 'outside ' || i FROM generate_series(1, 50) i;
CREATE INDEX guarded_v ON guarded USING hnsw (v vector_l2_ops);
ALTER TABLE guarded ENABLE ROW LEVEL SECURITY;
CREATE POLICY near_origin ON guarded USING (v <-> '[0,0]' < 1.5);
GRANT SELECT ON guarded TO regress_ann_reader;
CREATE FUNCTION tell(secret text) RETURNS bool LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF secret LIKE 'outside%' THEN
        RAISE NOTICE 'leaked: %', secret;
    END IF;
    RETURN true;
END $$;
SET ROLE regress_ann_reader;
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) AS visible FROM (SELECT id FROM guarded WHERE tell(secret) ORDER BY v <-> '[0,0]' LIMIT 20) s;
RESET hnsw.iterative_scan;
RESET enable_seqscan;
RESET ROLE;
DROP TABLE guarded;
DROP FUNCTION tell;
DROP ROLE regress_ann_reader;

-- Under cosine the search ranks half-precision copies of the vectors and stops a margin past
-- the bound. Here every row's first value lies between two halves, nearer the lower, so its
-- copy ranks it farther than it is, past a bound half of them are within (the rows are 1e-6
-- apart, halves 5e-4): they must all be found.
CREATE TABLE around_bound (id int, v vector(2));
INSERT INTO around_bound
SELECT i, ARRAY[0.6998 - i * 1e-6, sin(acos(0.6998 - i * 1e-6))]::real[]::vector
FROM generate_series(-50, 50) i;
CREATE INDEX ON around_bound USING hnsw (v vector_cosine_ops) WITH (m = 4);
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.ef_search = 10;
SELECT (SELECT count(*) FROM around_bound WHERE (v <=> '[1,0]') + 0 < 0.3002) AS exact,
       count(*) AS cached_once, (SELECT count(*) FROM (SELECT id FROM around_bound WHERE v <=> '[1,0]' < 0.3002
                                 ORDER BY v <=> '[1,0]' LIMIT 100) t) AS cached
FROM (SELECT id FROM around_bound WHERE v <=> '[1,0]' < 0.3002 ORDER BY v <=> '[1,0]' LIMIT 100) s;
RESET hnsw.ef_search;
RESET hnsw.iterative_scan;
RESET enable_seqscan;
DROP TABLE around_bound;
