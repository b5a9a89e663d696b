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
DROP TABLE hnsw_plan;

-- index validation
SELECT amvalidate(oid) FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hnsw') ORDER BY opcname;
SELECT opcname, opcdefault FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hnsw') ORDER BY opcname;

DROP TABLE hnsw_opts;
