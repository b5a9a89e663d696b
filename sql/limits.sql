-- Limits: builds in too little memory, cancelled builds, vectors too long for an index.

-- maintenance_work_mem far too small: the graph is built from the rows that fit, the rest
-- are inserted one at a time, with a NOTICE; the index is complete
CREATE TABLE limits_small_memory (id int, v vector(64));
INSERT INTO limits_small_memory
	SELECT i, (SELECT array_agg(sin(i * 7 + j)) FROM generate_series(1, 64) j)::vector
	FROM generate_series(1, 3000) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX limits_small_memory_idx ON limits_small_memory USING hnsw (v vector_l2_ops);
RESET maintenance_work_mem;
SELECT * FROM ann_index_check('limits_small_memory_idx') WHERE item IN ('heap TIDs', 'dead elements', 'stale links');
SET enable_seqscan = off;
SELECT id FROM limits_small_memory ORDER BY v <-> (SELECT v FROM limits_small_memory WHERE id = 2999) LIMIT 1;
SELECT id FROM limits_small_memory ORDER BY v <-> (SELECT v FROM limits_small_memory WHERE id = 5) LIMIT 1;
RESET enable_seqscan;

-- a cancelled build leaves nothing behind, and the table is queried as before
SET statement_timeout = '50ms';
CREATE INDEX limits_cancelled_idx ON limits_small_memory USING hnsw (v vector_l2_ops) WITH (ef_construction = 1000);
RESET statement_timeout;
SELECT count(*) FROM pg_class WHERE relname = 'limits_cancelled_idx';
SELECT id FROM limits_small_memory ORDER BY v <-> (SELECT v FROM limits_small_memory WHERE id = 7) LIMIT 1;
-- (CREATE INDEX CONCURRENTLY, cancelled, leaves an invalid index to drop, as for any method)
SET statement_timeout = '50ms';
CREATE INDEX CONCURRENTLY limits_cancelled_idx ON limits_small_memory USING hnsw (v vector_l2_ops) WITH (ef_construction = 1000);
RESET statement_timeout;
SELECT indisvalid FROM pg_index WHERE indexrelid = 'limits_cancelled_idx'::regclass;
DROP INDEX limits_cancelled_idx;
DROP TABLE limits_small_memory;

-- every width the vector type takes is indexed: up to 1,867 dimensions at m = 16 an element
-- keeps its vector inline, one more and the vectors go to chunks of their own; an untyped
-- column takes its width, and with it the storage, from its first row
CREATE TABLE limits_widest_inline (v vector(1867));
CREATE INDEX limits_widest_inline_idx ON limits_widest_inline USING hnsw (v vector_l2_ops);
INSERT INTO limits_widest_inline SELECT array_fill(i, ARRAY[1867])::vector FROM generate_series(1, 20) i;
SELECT * FROM ann_index_check('limits_widest_inline_idx') WHERE item IN ('elements', 'heap TIDs', 'vector chunks');
DROP TABLE limits_widest_inline;
CREATE TABLE limits_narrowest_chunked (v vector(1868));
CREATE INDEX limits_narrowest_chunked_idx ON limits_narrowest_chunked USING hnsw (v vector_l2_ops);
INSERT INTO limits_narrowest_chunked SELECT array_fill(i, ARRAY[1868])::vector FROM generate_series(1, 20) i;
SELECT * FROM ann_index_check('limits_narrowest_chunked_idx') WHERE item IN ('elements', 'heap TIDs', 'vector chunks');
DROP TABLE limits_narrowest_chunked;
CREATE TABLE limits_untyped (v vector);
CREATE INDEX limits_untyped_idx ON limits_untyped USING hnsw (v vector_l2_ops);
INSERT INTO limits_untyped SELECT array_fill(1, ARRAY[16000])::vector;
INSERT INTO limits_untyped SELECT array_fill(1, ARRAY[1867])::vector;
SELECT vector_dims(v) FROM limits_untyped;
SELECT * FROM ann_index_check('limits_untyped_idx') WHERE item IN ('elements', 'vector chunks');
DROP TABLE limits_untyped;
-- and longer than the type takes
SELECT array_fill(1, ARRAY[16001])::vector;

-- components near the float range overflow the squared norms k-means works with: every
-- row must still get a list, for any number of lists (this used to crash the server)
CREATE TABLE limits_huge (id int, v vector(2));
INSERT INTO limits_huge VALUES (1, '[1e20,1e20]'), (2, '[1,1]'), (3, '[-1e20,3e19]'), (4, '[2,2]');
CREATE INDEX limits_huge_one_list ON limits_huge USING ivfflat (v vector_l2_ops) WITH (lists = 1);
SET enable_seqscan = off;
SELECT id FROM limits_huge ORDER BY v <-> '[1,1]' LIMIT 2;
DROP INDEX limits_huge_one_list;
CREATE INDEX limits_huge_many_lists ON limits_huge USING ivfflat (v vector_l2_ops) WITH (lists = 3);
SET ivfflat.probes = 3;
SELECT id FROM limits_huge ORDER BY v <-> '[1,1]' LIMIT 2;
SELECT count(*) FROM (SELECT id FROM limits_huge ORDER BY v <-> '[1,1]' LIMIT 10) every_list;
RESET ivfflat.probes;
RESET enable_seqscan;
DROP TABLE limits_huge;
