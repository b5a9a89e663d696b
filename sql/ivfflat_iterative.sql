-- Iterative ivfflat scans: when a filter rejects the rows of the probed lists,
-- ivfflat.iterative_scan = relaxed_order goes on to the next nearest lists.
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- 4,000 points on a spiral (deterministic), one in fifty in each category.
CREATE TABLE ivf_items (id int PRIMARY KEY, category int, v vector(3));
INSERT INTO ivf_items
SELECT i, i % 50, ARRAY[cos(i * 0.37) * (1 + i % 7), sin(i * 0.37) * (1 + i % 5), (i % 11) - 5.0]::real[]::vector
FROM generate_series(1, 4000) i;
CREATE INDEX ivf_items_v ON ivf_items USING ivfflat (v vector_l2_ops) WITH (lists = 40);

-- The settings and their bounds, as pgvector has them.
SHOW ivfflat.iterative_scan;
SHOW ivfflat.max_probes;
SET ivfflat.iterative_scan = strict_order;
SET ivfflat.max_probes = 0;
SET ivfflat.max_probes = 32769;

CREATE TABLE ivf_exact AS
SELECT id FROM ivf_items WHERE category = 7 ORDER BY v <-> '[1,1,1]', id LIMIT 10;

-- Off: one list of about 100 rows holds about two of category 7.
SET ivfflat.probes = 1;
SELECT count(*) < 10 AS short FROM (SELECT id FROM ivf_items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- Relaxed order: the scan moves on to further lists until it has 10 rows.
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) AS rows, count(*) FILTER (WHERE id IN (SELECT id FROM ivf_exact)) >= 8 AS recall_at_least_80
FROM (SELECT id FROM ivf_items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- The scan sees the filter and hands out only rows that pass it. It estimates the filter's
-- pass rate (here 2%) from the nearest rows of the probed lists and probes
-- probes * (1 + 2 log10(1 / 2%)) lists a batch: 9 of 40 at probes = 2. That finds all of the
-- exact 10, where the scan of 2 lists at a time that a volatile filter leaves to the
-- executor finds 8.
SET ivfflat.probes = 2;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM ivf_items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10;
SELECT array_agg(id) = (SELECT array_agg(id) FROM ivf_exact) AS exact
FROM (SELECT id FROM ivf_items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SELECT count(*) FILTER (WHERE id IN (SELECT id FROM ivf_exact)) AS exact_rows_found_by_executor_filter
FROM (SELECT id FROM ivf_items WHERE category = 7 AND random() < 2 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
-- With a bound on the distance as well, fewer rows than the LIMIT: exactly those.
SELECT count(*) AS rows, array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM ivf_exact LIMIT 7) e) AS exact
FROM (SELECT id FROM ivf_items WHERE category = 7 AND v <-> '[1,1,1]' < 2.5 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SET ivfflat.probes = 1;
-- A bound that not even the nearest row of the nearest list lies within ends the scan
-- there, where it would otherwise rank all 40 lists (42 pages) and check every row.
CREATE FUNCTION blocks_read(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Shared Hit Blocks')::int
         + (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Shared Read Blocks')::int;
END $$;
SELECT count(*) AS rows FROM (SELECT id FROM ivf_items WHERE category = 7 AND v <-> '[1,1,1]' < 0.01 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SELECT blocks_read('SELECT id FROM ivf_items WHERE category = 7 AND v <-> ''[1,1,1]'' < 0.01 ORDER BY v <-> ''[1,1,1]'' LIMIT 10') < 10
    AS stops_early;
DROP FUNCTION blocks_read;

-- ivfflat.max_probes bounds it (below ivfflat.probes, probes applies); with every list
-- allowed, a filter that matches rows far away still gets its rows, and one that matches
-- nothing ends after the last list.
SET ivfflat.max_probes = 1;
SELECT count(*) < 10 AS short FROM (SELECT id FROM ivf_items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SET ivfflat.probes = 2;
SELECT count(*) BETWEEN 1 AND 9 AS more_than_one_list FROM (SELECT id FROM ivf_items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
RESET ivfflat.max_probes;
RESET ivfflat.probes;
SELECT count(*) AS rows FROM (SELECT id FROM ivf_items WHERE id % 1000 = 3 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;
SELECT count(*) AS rows FROM (SELECT id FROM ivf_items WHERE category = 1000 ORDER BY v <-> '[1,1,1]' LIMIT 10) s;

-- With a btree on the filter column the planner weighs both: an iterative scan must go
-- through about LIMIT / selectivity rows, here 500 of 4,000, where one probe covers 100, so
-- the btree and an exact sort win; without iterative scans the index scan costs the same
-- whatever the filter, as in pgvector.
CREATE INDEX ivf_items_category ON ivf_items (category);
ANALYZE ivf_items;
RESET enable_seqscan;
RESET enable_bitmapscan;
SET ivfflat.probes = 1;
SET ivfflat.iterative_scan = relaxed_order;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10;
SET ivfflat.iterative_scan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_items WHERE category = 7 ORDER BY v <-> '[1,1,1]' LIMIT 10;

DROP TABLE ivf_items, ivf_exact;
