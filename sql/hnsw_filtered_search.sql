-- Filtered hnsw scans: an iterative scan that can see the query's WHERE clause checks rows
-- against it itself, searches on for the ef_search nearest passing elements and hands out
-- only those; for a filter so selective that the graph would cost more than the table, it
-- answers exactly from the table.
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- 6,000 points on a spiral (deterministic), one in ten in each category; ten passing
-- elements take the search about a hundred checks, short of the point where it would
-- weigh reading the table instead. Pages keep room, so that an update of a column no index
-- covers leaves a heap-only version on the same page.
CREATE TABLE items (id int PRIMARY KEY, category int, v vector(3)) WITH (fillfactor = 70);
INSERT INTO items
SELECT i, i % 10, ARRAY[cos(i * 0.37) * (1 + i % 7), sin(i * 0.37) * (1 + i % 5), (i % 11) - 5.0]::real[]::vector
FROM generate_series(1, 6000) i;
CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 40);

-- The exact answer of a filtered query, to compare with: ids in distance order.
CREATE FUNCTION exact_ids(filter text, lim int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE result int[];
BEGIN
    SET LOCAL enable_indexscan = off;
    SET LOCAL enable_seqscan = on;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM items WHERE %s
                    ORDER BY v <-> ''[1,1,1]'', id LIMIT %s) s', filter, lim) INTO result;
    RETURN result;
END $$;

SET hnsw.ef_search = 10;
SET hnsw.iterative_scan = relaxed_order;

-- The index hands out passing rows only: the filter above it removes none.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10;
SELECT array_agg(id) = exact_ids('category = 7', 10) AS exact
FROM (SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- Many more rows than ef_search: each batch hands out the next ef_search passing elements,
-- and the passing elements a batch found beyond its first ef_search are handed out by a
-- later one, not lost (here three of them were, before).
CREATE FUNCTION exact_ids_to(query vector, filter text, lim int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE result int[];
BEGIN
    SET LOCAL enable_indexscan = off;
    SET LOCAL enable_seqscan = on;
    EXECUTE format('SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM items WHERE %s
                    ORDER BY v <-> %L, id LIMIT %s) s', filter, query, lim) INTO result;
    RETURN result;
END $$;
SET hnsw.ef_search = 1;
SELECT array_agg(id ORDER BY id) = exact_ids_to('[0,0,-5]', 'category < 7', 60) AS same_rows
FROM (SELECT id FROM items WHERE category < 7 ORDER BY v <-> '[0,0,-5]' LIMIT 60) s;
SET hnsw.ef_search = 10;
DROP FUNCTION exact_ids_to;

-- Strict order, and a filter on an expression of several columns.
SET hnsw.iterative_scan = strict_order;
SELECT array_agg(id) = exact_ids('category IN (3, 4) AND id > 1000', 10) AS exact
FROM (SELECT id FROM items WHERE category IN (3, 4) AND id > 1000 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SET hnsw.iterative_scan = relaxed_order;

-- A filter with a volatile function is left to the executor (evaluating it early would
-- call it more often): the index hands out rows the filter then removes.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM items WHERE category = 7 AND random() < 2 ORDER BY v <-> '[1,1,1]' LIMIT 10;

-- Parameters: a generic plan's $2, a value from an initplan, an outer row in a nested loop.
SET plan_cache_mode = force_generic_plan;
PREPARE filtered(vector, int) AS SELECT id FROM items WHERE category = $2 ORDER BY v <-> $1 LIMIT 10;
CREATE TEMP TABLE executed AS EXECUTE filtered('[1,1,1]', 7);
SELECT array_agg(id) = exact_ids('category = 7', 10) AS exact FROM executed;
RESET plan_cache_mode;
SELECT array_agg(id) = exact_ids('category = 8', 10) AS exact
FROM (SELECT id FROM items WHERE category = (SELECT 8) ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SELECT q.c, array_agg(s.id) = exact_ids('category = ' || q.c, 5) AS exact
FROM (VALUES (7), (8), (9)) q(c)
CROSS JOIN LATERAL (SELECT id FROM items WHERE category = q.c ORDER BY v <-> '[1,1,1]' LIMIT 5) s
GROUP BY q.c ORDER BY q.c;

-- Rows deleted (and not yet vacuumed) are skipped: the next passing rows take their place.
DELETE FROM items WHERE id IN (SELECT unnest(exact_ids('category = 7', 3)));
SELECT array_agg(id) = exact_ids('category = 7', 10) AS exact
FROM (SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- Rows updated out of the category and into it: the scan checks each row's current version.
UPDATE items SET category = 17 WHERE id IN (SELECT unnest(exact_ids('category = 7', 2)));
UPDATE items SET category = 7 WHERE id IN (SELECT unnest(exact_ids('category = 6', 2)));
SELECT array_agg(id) = exact_ids('category = 7', 10) AS exact, count(*) FILTER (WHERE id % 10 = 6) AS moved_in
FROM (SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- A filter 6 rows pass, with a budget far too small to reach them through the graph: the
-- scan sees it passes almost nothing and answers from the table, exactly.
SET hnsw.max_scan_tuples = 600;
SELECT array_agg(id) = exact_ids('id % 1000 = 3', 10) AS exact, count(*) AS rows
FROM (SELECT id FROM items WHERE id % 1000 = 3 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
-- Updated in place, those rows have heap-only versions, which the table scan finds: it must
-- hand them out under the TIDs the index holds, those of their update chains' roots.
UPDATE items SET category = category WHERE id % 1000 = 3;
SELECT array_agg(id) = exact_ids('id % 1000 = 3', 10) AS exact, count(*) AS rows
FROM (SELECT id FROM items WHERE id % 1000 = 3 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
-- It reads the rows its snapshot sees: not one deleted, but one its own transaction
-- inserted; in a serializable transaction too.
BEGIN ISOLATION LEVEL SERIALIZABLE;
DELETE FROM items WHERE id = 3003;
INSERT INTO items VALUES (7003, 3, '[1,1,1.5]');
SELECT array_agg(id) = exact_ids('id % 1000 = 3', 10) AS exact, count(*) AS rows,
       bool_or(id = 7003) AS sees_own_insert, bool_or(id = 3003) AS sees_deleted
FROM (SELECT id FROM items WHERE id % 1000 = 3 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
COMMIT;
-- Without an iterative scan the filter is left to the executor, as in pgvector.
SET hnsw.iterative_scan = off;
SELECT count(*) < 6 AS short FROM (SELECT id FROM items WHERE id % 1000 = 3 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- A partial index never answers from the table: the scan's filter leaves out the index
-- predicate the query implies, so the table holds rows that pass the filter and are not in
-- the index (here those with id % 1000 = 8, all of category 8).
SET hnsw.iterative_scan = relaxed_order;
CREATE INDEX items_v_low ON items USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 40)
WHERE category < 5;
DROP INDEX items_v;
EXPLAIN (COSTS OFF)
SELECT id FROM items WHERE category < 5 AND id % 1000 IN (3, 8) ORDER BY v <-> '[1,1,1]' LIMIT 10;
SELECT bool_and(category < 5) IS NOT false AS only_indexed_rows
FROM (SELECT id, category FROM items WHERE category < 5 AND id % 1000 IN (3, 8) ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
RESET hnsw.max_scan_tuples;
SELECT array_agg(id) = exact_ids('category < 5 AND id % 1000 IN (3, 8)', 10) AS exact
FROM (SELECT id FROM items WHERE category < 5 AND id % 1000 IN (3, 8) ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

DROP FUNCTION exact_ids;
DROP TABLE items;

-- The cost estimate looks at the graph: with the query and the filter's value known, it
-- checks the rows of the query's nearest elements. Of two filters of equal selectivity,
-- the one on the query's own cluster, whose rows pass there, then costs much less than the
-- one on a cluster far away, so a btree on the filter column wins only the far one.
CREATE TABLE clusters (id int PRIMARY KEY, cluster int, v vector(2));
INSERT INTO clusters
SELECT i, i % 20, ARRAY[100 * cos(i % 20 * 0.314) + (i * 7 % 13) * 0.1,
                        100 * sin(i % 20 * 0.314) + (i * 11 % 17) * 0.1]::real[]::vector
FROM generate_series(1, 6000) i;
CREATE INDEX clusters_v ON clusters USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 40);
ANALYZE clusters;
CREATE FUNCTION scan_cost(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Total Cost')::float8;
END $$;
SET hnsw.iterative_scan = relaxed_order;
SELECT scan_cost('SELECT id FROM clusters WHERE cluster = 10 ORDER BY v <-> ''[100,0]'' LIMIT 10')
     > 2 * scan_cost('SELECT id FROM clusters WHERE cluster = 0 ORDER BY v <-> ''[100,0]'' LIMIT 10')
    AS far_cluster_costs_more;
-- The probe can only make the graph cheaper, so it runs only where that could change the
-- plan: not for a broad filter, which the graph wins by far over a pass of the table, unless
-- another index could find the filter's rows (see after the btree below).
CREATE TABLE half_costs AS
SELECT scan_cost('SELECT id FROM clusters WHERE cluster NOT BETWEEN 5 AND 14 ORDER BY v <-> ''[100,0]'' LIMIT 10')
       AS near_half,
       scan_cost('SELECT id FROM clusters WHERE cluster BETWEEN 5 AND 14 ORDER BY v <-> ''[100,0]'' LIMIT 10')
       AS far_half;
-- The probe calls no function that is not leakproof, even one of no column: here the
-- planner's own estimate calls it, the probe does not.
CREATE FUNCTION noisy_cluster() RETURNS int LANGUAGE plpgsql STABLE AS $$
BEGIN
    RAISE NOTICE 'noisy_cluster called';
    RETURN 0;
END $$;
EXPLAIN (COSTS OFF) SELECT id FROM clusters WHERE cluster = noisy_cluster() ORDER BY v <-> '[100,0]' LIMIT 10;
DROP FUNCTION noisy_cluster;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- A filter so selective that the scan would answer from the table is priced as that one
-- pass, which runs no executor node per row: below a sequential scan and a sort, above a
-- btree that finds the rows directly.
EXPLAIN (COSTS OFF) SELECT id FROM clusters WHERE id % 1000 = 7 ORDER BY v <-> '[100,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM clusters WHERE id < 8 ORDER BY v <-> '[100,0]' LIMIT 10;
-- Not while the table's size is unknown (never vacuumed or analysed, its index built
-- empty): the scan then cannot weigh the table, and stays on the graph.
CREATE TABLE unsized (id int, v vector(2)) WITH (autovacuum_enabled = off);
CREATE INDEX ON unsized USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 40);
INSERT INTO unsized SELECT i, ARRAY[i % 97, i % 89]::real[]::vector FROM generate_series(1, 6000) i;
SELECT reltuples < 0 AS size_unknown FROM pg_class WHERE relname = 'unsized';
EXPLAIN (COSTS OFF) SELECT id FROM unsized WHERE id % 1000 = 7 ORDER BY v <-> '[1,1]' LIMIT 10;
DROP TABLE unsized;
CREATE INDEX clusters_cluster ON clusters (cluster);
SELECT scan_cost('SELECT id FROM clusters WHERE cluster NOT BETWEEN 5 AND 14 ORDER BY v <-> ''[100,0]'' LIMIT 10')
       < near_half AS near_half_probed,
       scan_cost('SELECT id FROM clusters WHERE cluster BETWEEN 5 AND 14 ORDER BY v <-> ''[100,0]'' LIMIT 10')
       = far_half AS far_half_alike
FROM half_costs;
DROP TABLE half_costs;
EXPLAIN (COSTS OFF) SELECT id FROM clusters WHERE cluster = 0 ORDER BY v <-> '[100,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM clusters WHERE cluster = 10 ORDER BY v <-> '[100,0]' LIMIT 10;
DROP FUNCTION scan_cost;
DROP TABLE clusters;
