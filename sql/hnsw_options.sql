-- hnsw: options, settings and what the planner does with the index
CREATE TABLE hnsw_opts (id int, v vector(3));
INSERT INTO hnsw_opts SELECT i, ARRAY[i, i % 7, i % 3]::vector FROM generate_series(1, 100) i;

-- reloption bounds
CREATE INDEX ON hnsw_opts USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON hnsw_opts USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX ON hnsw_opts USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON hnsw_opts USING hnsw (v vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON hnsw_opts USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 31);
CREATE INDEX ON hnsw_opts USING hnsw (v vector_l2_ops) WITH (nonsense = 1);
CREATE INDEX hnsw_opts_idx ON hnsw_opts USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 16);
SELECT reloptions FROM pg_class WHERE relname = 'hnsw_opts_idx';

-- no default opclass, as in pgvector; multi-column indexes are refused
CREATE INDEX ON hnsw_opts USING hnsw (v);
CREATE INDEX ON hnsw_opts USING hnsw (v vector_l2_ops, v vector_l2_ops);

-- hnsw.ef_search
SHOW hnsw.ef_search;
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.ef_search = 1000;
SHOW hnsw.ef_search;
RESET hnsw.ef_search;
SET hnsw.no_such_setting = 1;

-- plans: the index serves ORDER BY distance LIMIT, and nothing else
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_opts ORDER BY v <-> '[1,2,3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_opts ORDER BY v <=> '[1,2,3]' LIMIT 5;
RESET enable_seqscan;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_opts ORDER BY v <-> '[1,2,3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_opts WHERE v = '[1,1,1]';
EXPLAIN (COSTS OFF) SELECT count(*) FROM hnsw_opts;

-- the operator class must match the operator for the index to be used
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_opts ORDER BY v <#> '[1,2,3]' LIMIT 5;

-- on a table of some size the planner picks the index by itself, for LIMIT queries only
CREATE TABLE hnsw_plan (id int, v vector(3));
INSERT INTO hnsw_plan SELECT i, ARRAY[i % 101, i % 37, i % 13]::vector FROM generate_series(1, 20000) i;
CREATE INDEX ON hnsw_plan USING hnsw (v vector_l2_ops);
ANALYZE hnsw_plan;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_plan ORDER BY v <-> '[1,2,3]';
-- a LIMIT known only when the plan runs (a generic plan's parameter) counts as one
SET plan_cache_mode = force_generic_plan;
PREPARE hnsw_nearest(vector, int) AS SELECT id FROM hnsw_plan ORDER BY v <-> $1 LIMIT $2;
EXPLAIN (COSTS OFF) EXECUTE hnsw_nearest('[1,2,3]', 10);
SET hnsw.iterative_scan = relaxed_order;
EXPLAIN (COSTS OFF) EXECUTE hnsw_nearest('[1,2,3]', 10);
RESET hnsw.iterative_scan;
DEALLOCATE hnsw_nearest;
RESET plan_cache_mode;
-- window functions that need no row past the current one and its peers leave the LIMIT
-- in force (reciprocal rank fusion, as in pgvector's hybrid search example); others,
-- which may read the whole partition, do not
EXPLAIN (COSTS OFF) SELECT id, rank() OVER (ORDER BY v <-> '[1,2,3]') FROM hnsw_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
EXPLAIN (COSTS OFF) WITH semantic AS (
    SELECT id, rank() OVER (ORDER BY v <-> '[1,2,3]') AS rank FROM hnsw_plan ORDER BY v <-> '[1,2,3]' LIMIT 20),
  keyword AS (SELECT id, rank() OVER (ORDER BY id) AS rank FROM hnsw_plan WHERE id % 1000 = 7 ORDER BY id LIMIT 20)
SELECT COALESCE(semantic.id, keyword.id) AS id,
       COALESCE(1.0 / (60 + semantic.rank), 0.0) + COALESCE(1.0 / (60 + keyword.rank), 0.0) AS score
FROM semantic FULL OUTER JOIN keyword ON semantic.id = keyword.id ORDER BY score DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id, count(*) OVER () FROM hnsw_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id, ntile(4) OVER (ORDER BY v <-> '[1,2,3]') FROM hnsw_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id, lag(id) OVER w, first_value(id) OVER w FROM hnsw_plan
WINDOW w AS (ORDER BY v <-> '[1,2,3]') ORDER BY v <-> '[1,2,3]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id, lead(id) OVER (ORDER BY v <-> '[1,2,3]') FROM hnsw_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id, sum(id) OVER (ORDER BY v <-> '[1,2,3]' ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING)
FROM hnsw_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
-- and the ranks through the index are the exact ones
SET hnsw.ef_search = 200;
CREATE TEMP TABLE ranked_by_index AS
    SELECT v <-> '[1,2,3]' AS d, rank() OVER (ORDER BY v <-> '[1,2,3]') AS r FROM hnsw_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
SET enable_indexscan = off;
CREATE TEMP TABLE ranked_exactly AS
    SELECT v <-> '[1,2,3]' AS d, rank() OVER (ORDER BY v <-> '[1,2,3]') AS r FROM hnsw_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
RESET enable_indexscan;
RESET hnsw.ef_search;
SELECT (SELECT array_agg(d::text || ' ' || r ORDER BY r, d) FROM ranked_by_index) =
       (SELECT array_agg(d::text || ' ' || r ORDER BY r, d) FROM ranked_exactly) AS same_ranks,
       (SELECT max(r) FROM ranked_exactly) > 1 AS several_ranks;
DROP TABLE ranked_by_index, ranked_exactly;
DROP TABLE hnsw_plan;

-- index validation
SELECT amvalidate(oid) FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hnsw') ORDER BY opcname;
SELECT opcname, opcdefault FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hnsw') ORDER BY opcname;

DROP TABLE hnsw_opts;
