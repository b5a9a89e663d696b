-- hnsw: relation-level operations and edge cases
-- an index on a column without a typmod takes its dimensions from the data
CREATE TABLE hnsw_untyped (id int, v vector);
INSERT INTO hnsw_untyped VALUES (1, '[1,2]'), (2, '[3,4]');
CREATE INDEX hnsw_untyped_idx ON hnsw_untyped USING hnsw (v vector_l2_ops);
INSERT INTO hnsw_untyped VALUES (3, '[1,2,3]');
CREATE TABLE hnsw_mixed (v vector);
INSERT INTO hnsw_mixed VALUES ('[1,2]'), ('[1,2,3]');
CREATE INDEX ON hnsw_mixed USING hnsw (v vector_l2_ops);
DROP TABLE hnsw_untyped, hnsw_mixed;

-- no dimension limit short of the vector type's, at any m (hnsw_wide_vectors tests more)
CREATE TABLE hnsw_wide (v vector(16000));
CREATE INDEX ON hnsw_wide USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 8);
CREATE INDEX ON hnsw_wide USING hnsw (v vector_l2_ops) WITH (m = 100, ef_construction = 200);
DROP TABLE hnsw_wide;

-- zero vectors are not indexed under cosine (their distance is NaN)
CREATE TABLE hnsw_zero (id int, v vector(2));
INSERT INTO hnsw_zero VALUES (1, '[0,0]'), (2, '[1,0]'), (3, '[0,1]');
CREATE INDEX ON hnsw_zero USING hnsw (v vector_cosine_ops);
INSERT INTO hnsw_zero VALUES (4, '[0,0]'), (5, '[1,1]');
SET enable_seqscan = off;
SELECT id FROM hnsw_zero ORDER BY v <=> '[1,0.1]' LIMIT 10;
SELECT count(*) FROM hnsw_zero;
RESET enable_seqscan;
DROP TABLE hnsw_zero;

-- identical vectors share elements, and all of them are returned
CREATE TABLE hnsw_dupes (id int, v vector(2));
INSERT INTO hnsw_dupes SELECT i, '[1,1]' FROM generate_series(1, 100) i;
INSERT INTO hnsw_dupes SELECT 100 + i, ARRAY[i, 0]::vector FROM generate_series(1, 20) i;
CREATE INDEX ON hnsw_dupes USING hnsw (v vector_l2_ops);
INSERT INTO hnsw_dupes SELECT 200 + i, '[1,1]' FROM generate_series(1, 30) i;
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
SELECT count(*) FROM (SELECT id FROM hnsw_dupes ORDER BY v <-> '[1,1]' LIMIT 130) s;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM hnsw_dupes ORDER BY v <-> '[20,0]' LIMIT 3) s;
RESET hnsw.ef_search;
RESET enable_seqscan;
DROP TABLE hnsw_dupes;

-- empty tables, unlogged tables, TRUNCATE, REINDEX, CREATE INDEX CONCURRENTLY
CREATE UNLOGGED TABLE hnsw_unlogged (id int, v vector(3));
CREATE INDEX hnsw_unlogged_idx ON hnsw_unlogged USING hnsw (v vector_l2_ops);
SELECT relpersistence FROM pg_class WHERE relname = 'hnsw_unlogged_idx';
INSERT INTO hnsw_unlogged SELECT i, ARRAY[i, i, i]::vector FROM generate_series(1, 50) i;
SET enable_seqscan = off;
SELECT id FROM hnsw_unlogged ORDER BY v <-> '[10,10,10.5]' LIMIT 3;
TRUNCATE hnsw_unlogged;
SELECT id FROM hnsw_unlogged ORDER BY v <-> '[10,10,10.5]' LIMIT 3;
INSERT INTO hnsw_unlogged SELECT i, ARRAY[i, i, i]::vector FROM generate_series(1, 50) i;
REINDEX INDEX hnsw_unlogged_idx;
SELECT id FROM hnsw_unlogged ORDER BY v <-> '[20,20,20.5]' LIMIT 3;
RESET enable_seqscan;
DROP TABLE hnsw_unlogged;

CREATE TABLE hnsw_concurrently (id int, v vector(3));
INSERT INTO hnsw_concurrently SELECT i, ARRAY[i, 0, 0]::vector FROM generate_series(1, 50) i;
CREATE INDEX CONCURRENTLY hnsw_concurrently_idx ON hnsw_concurrently USING hnsw (v vector_l2_ops);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'hnsw_concurrently_idx'::regclass;
REINDEX INDEX CONCURRENTLY hnsw_concurrently_idx;
SET enable_seqscan = off;
SELECT id FROM hnsw_concurrently ORDER BY v <-> '[7.2,0,0]' LIMIT 3;
RESET enable_seqscan;
DROP TABLE hnsw_concurrently;
