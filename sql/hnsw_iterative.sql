-- Iterative hnsw scans: with a filter that rejects most of the first ef_search results,
-- hnsw.iterative_scan goes on searching until the query has its rows.
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- 6,000 points on a spiral (deterministic), one in a hundred in each category.
CREATE TABLE items (id int PRIMARY KEY, category int, v vector(3));
INSERT INTO items
SELECT i, i % 100, ARRAY[cos(i * 0.37) * (1 + i % 7), sin(i * 0.37) * (1 + i % 5), (i % 11) - 5.0]::real[]::vector
FROM generate_series(1, 6000) i;
CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 40);

-- The settings and their bounds, as pgvector has them.
SHOW hnsw.iterative_scan;
SHOW hnsw.max_scan_tuples;
SHOW hnsw.scan_mem_multiplier;
SET hnsw.iterative_scan = 'sideways';
SET hnsw.max_scan_tuples = 0;
SET hnsw.scan_mem_multiplier = 0.5;
SET hnsw.scan_mem_multiplier = 1001;

-- The exact answer of the filtered query, for comparison.
CREATE TABLE exact AS
SELECT id, v <-> '[1,1,1]' AS distance FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]', id LIMIT 10;

SET hnsw.ef_search = 10;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10;

-- Off: the 10 nearest elements hold about one row of category 7.
SET hnsw.iterative_scan = off;
SELECT count(*) < 10 AS short FROM (SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- Relaxed and strict order: 10 rows, nearly all of the exact answer; strict ones in order.
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) AS rows, count(*) FILTER (WHERE id IN (SELECT id FROM exact)) >= 9 AS recall_at_least_90
FROM (SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*) AS rows, count(*) FILTER (WHERE id IN (SELECT id FROM exact)) >= 9 AS recall_at_least_90,
       bool_and(in_order) AS in_distance_order
FROM (SELECT id, coalesce(d >= lag(d) OVER (ORDER BY n), true) AS in_order
      FROM (SELECT id, v <-> '[1,1,1]' AS d, row_number() OVER () AS n
            FROM (SELECT id, v FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) q) r) s;

-- A budget too small for the filter ends the scan short; a filter nothing passes ends it
-- at the budget instead of walking the whole graph.
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 30;
SELECT count(*) < 10 AS short FROM (SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
RESET hnsw.max_scan_tuples;
SELECT count(*) FROM (SELECT id FROM items WHERE category = 1000 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- With a generous budget the scan reaches every row: all 6 rows with id % 1000 = 3.
SET hnsw.max_scan_tuples = 100000;
SELECT count(*) AS rows FROM (SELECT id FROM items WHERE id % 1000 = 3 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- Rescans (a nested loop) start each search afresh.
SET hnsw.max_scan_tuples = 20000;
SELECT q.c, count(s.id) AS rows
FROM (VALUES (7), (8)) q(c)
CROSS JOIN LATERAL (SELECT id FROM items WHERE category = q.c ORDER BY v <-> '[1,1,1]' LIMIT 10) s
GROUP BY q.c ORDER BY q.c;

-- With a btree on the filter column the planner weighs both: an iterative scan must hand
-- out about LIMIT / selectivity elements, so a 1% filter goes to the btree (and an exact
-- sort) while a 50% filter stays on the graph. Without iterative scans the graph scan
-- costs the same whatever the filter, as in pgvector.
CREATE INDEX items_category ON items (category);
ANALYZE items;
RESET enable_seqscan;
RESET enable_bitmapscan;
SET hnsw.iterative_scan = relaxed_order;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE category < 50 ORDER BY v <-> '[1,1,1]' LIMIT 10;
SET hnsw.iterative_scan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10;

DROP TABLE items, exact;
