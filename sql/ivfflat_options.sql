-- ivfflat: options, settings, errors and what the planner does with the index
CREATE FUNCTION ivfflat_error(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TABLE ivf_opts (id int, v vector(3));
INSERT INTO ivf_opts SELECT i, ARRAY[i, i % 7, i % 3]::vector FROM generate_series(1, 100) i;

-- reloption bounds
SELECT ivfflat_error('CREATE INDEX ON ivf_opts USING ivfflat (v vector_l2_ops) WITH (lists = 0)');
SELECT ivfflat_error('CREATE INDEX ON ivf_opts USING ivfflat (v vector_l2_ops) WITH (lists = 32769)');
SELECT ivfflat_error('CREATE INDEX ON ivf_opts USING ivfflat (v vector_l2_ops) WITH (lists = ''many'')');
SELECT ivfflat_error('CREATE INDEX ON ivf_opts USING ivfflat (v vector_l2_ops) WITH (nonsense = 1)');
SELECT ivfflat_error('CREATE INDEX ON ivf_opts USING ivfflat (v vector_l2_ops) WITH (m = 16)');
CREATE INDEX ivf_opts_idx ON ivf_opts USING ivfflat (v vector_l2_ops) WITH (lists = 10);
SELECT reloptions FROM pg_class WHERE relname = 'ivf_opts_idx';
ALTER INDEX ivf_opts_idx SET (lists = 5);
SELECT reloptions FROM pg_class WHERE relname = 'ivf_opts_idx';
DROP INDEX ivf_opts_idx;

-- vector_l2_ops is the default class, as in pgvector; multi-column indexes are refused
CREATE INDEX ivf_opts_default ON ivf_opts USING ivfflat (v) WITH (lists = 4);
SELECT opcname FROM pg_opclass c JOIN pg_index i ON c.oid = i.indclass[0] WHERE i.indexrelid = 'ivf_opts_default'::regclass;
DROP INDEX ivf_opts_default;
SELECT ivfflat_error('CREATE INDEX ON ivf_opts USING ivfflat (v vector_l2_ops, v vector_l2_ops)');
SELECT ivfflat_error('CREATE UNIQUE INDEX ON ivf_opts USING ivfflat (v vector_l2_ops)');
SELECT ivfflat_error('CREATE INDEX ON ivf_opts USING ivfflat (v vector_l1_ops)');

-- the column must declare its dimensions, and they must fit on a page
CREATE TABLE ivf_untyped (v vector);
SELECT ivfflat_error('CREATE INDEX ON ivf_untyped USING ivfflat (v vector_l2_ops)');
CREATE TABLE ivf_wide (v vector(2040));
SELECT ivfflat_error('CREATE INDEX ON ivf_wide USING ivfflat (v vector_l2_ops)');
CREATE TABLE ivf_widest (v vector(2030));
SELECT ivfflat_error('CREATE INDEX ON ivf_widest USING ivfflat (v vector_l2_ops) WITH (lists = 1)');
-- at the limit exactly, a centre fills a list page (2,037 used to pass the check and fail)
CREATE TABLE ivf_limit (v vector(2036));
INSERT INTO ivf_limit SELECT array_fill(i::real, ARRAY[2036])::vector FROM generate_series(1, 3) i;
SELECT ivfflat_error('CREATE INDEX ON ivf_limit USING ivfflat (v vector_l2_ops) WITH (lists = 2)');
SET enable_seqscan = off;
SELECT (v::real[])[1] FROM ivf_limit ORDER BY v <-> array_fill(2.2::real, ARRAY[2036])::vector LIMIT 1;
RESET enable_seqscan;
CREATE TABLE ivf_over_limit (v vector(2037));
SELECT ivfflat_error('CREATE INDEX ON ivf_over_limit USING ivfflat (v vector_l2_ops) WITH (lists = 1)');
DROP TABLE ivf_untyped, ivf_wide, ivf_widest, ivf_limit, ivf_over_limit;

-- ivfflat.probes
SHOW ivfflat.probes;
SELECT ivfflat_error('SET ivfflat.probes = 0');
SELECT ivfflat_error('SET ivfflat.probes = 32769');
SET ivfflat.probes = 32768;
SHOW ivfflat.probes;
RESET ivfflat.probes;
SELECT ivfflat_error('SET ivfflat.no_such_setting = 1');
SELECT name, setting, min_val, max_val, context FROM pg_settings WHERE name LIKE 'ivfflat.%';

-- plans: the index serves ORDER BY distance LIMIT, and nothing else
CREATE INDEX ivf_opts_l2 ON ivf_opts USING ivfflat (v vector_l2_ops) WITH (lists = 4);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_opts ORDER BY v <-> '[1,2,3]' LIMIT 5;
-- the operator class must match the operator for the index to be used
EXPLAIN (COSTS OFF) SELECT id FROM ivf_opts ORDER BY v <=> '[1,2,3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_opts ORDER BY v <#> '[1,2,3]' LIMIT 5;
RESET enable_seqscan;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_opts WHERE v = '[1,1,1]';
EXPLAIN (COSTS OFF) SELECT count(*) FROM ivf_opts;

-- on a table of some size the planner picks the index by itself, for LIMIT queries only
CREATE TABLE ivf_plan (id int, v vector(3));
INSERT INTO ivf_plan SELECT i, ARRAY[i % 101, i % 37, i % 13]::vector FROM generate_series(1, 20000) i;
CREATE INDEX ON ivf_plan USING ivfflat (v vector_l2_ops) WITH (lists = 100);
ANALYZE ivf_plan;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_plan ORDER BY v <-> '[1,2,3]';
EXPLAIN (COSTS OFF) SELECT id FROM ivf_plan WHERE id < 10 ORDER BY id LIMIT 10;
-- a LIMIT known only when the plan runs (a generic plan's parameter) counts as one
SET plan_cache_mode = force_generic_plan;
PREPARE ivf_nearest(vector, int) AS SELECT id FROM ivf_plan ORDER BY v <-> $1 LIMIT $2;
EXPLAIN (COSTS OFF) EXECUTE ivf_nearest('[1,2,3]', 10);
DEALLOCATE ivf_nearest;
RESET plan_cache_mode;
-- so does one above a window function that reads no row past the current one and its peers
EXPLAIN (COSTS OFF) SELECT id, rank() OVER (ORDER BY v <-> '[1,2,3]') FROM ivf_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id, count(*) OVER () FROM ivf_plan ORDER BY v <-> '[1,2,3]' LIMIT 10;
DROP TABLE ivf_plan;

-- operator class validation
SELECT opcname, opcdefault, amvalidate(oid) FROM pg_opclass
WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'ivfflat') ORDER BY opcname;
SELECT amname, amtype FROM pg_am WHERE amname = 'ivfflat';

DROP TABLE ivf_opts;
DROP FUNCTION ivfflat_error(text);
