-- ann_index_check: sound indexes pass, whatever was done to them; what it refuses to check.
-- (Damaged indexes are made by test/tap/007_index_corruption.pl, which edits index files
-- of a stopped server.) Figures that depend on how the graph was laid out (pages, links,
-- elements when rows share vectors) show only as "some" or "none".
CREATE FUNCTION check_summary(index regclass) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(item || ' ' || CASE WHEN item IN ('pages', 'links', 'elements')
		THEN CASE WHEN count > 0 THEN 'some' ELSE 'none' END ELSE count::text END, ', ')
	FROM ann_index_check(index) $$;

SELECT * FROM ann_index_check(NULL);

-- an index on an empty table: the meta page only
CREATE TABLE check_empty (v vector(3));
CREATE INDEX check_empty_idx ON check_empty USING hnsw (v vector_l2_ops);
SELECT * FROM ann_index_check('check_empty_idx');
DROP TABLE check_empty;

-- every opclass, after the build, inserts, deletes and VACUUM
CREATE TABLE check_items (id int, v vector(3));
INSERT INTO check_items SELECT i, ARRAY[i % 17, i % 13, i % 7]::vector FROM generate_series(1, 1000) i;
CREATE INDEX check_l2 ON check_items USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX check_ip ON check_items USING hnsw (v vector_ip_ops);
CREATE INDEX check_cosine ON check_items USING hnsw (v vector_cosine_ops);
CREATE INDEX check_l1 ON check_items USING hnsw (v vector_l1_ops);
SELECT i, check_summary(i) FROM unnest('{check_l2,check_ip,check_cosine,check_l1}'::regclass[]) i;
INSERT INTO check_items SELECT i, ARRAY[i % 11, i % 5, i % 3]::vector FROM generate_series(1001, 1200) i;
DELETE FROM check_items WHERE id % 4 = 0;
-- deleted rows keep their heap TIDs in the index until VACUUM
SELECT check_summary('check_l2');
VACUUM check_items;
-- (cosine leaves out row 1155, a zero vector)
SELECT i, check_summary(i) FROM unnest('{check_l2,check_ip,check_cosine,check_l1}'::regclass[]) i;
DROP TABLE check_items;

-- an index on a column without typmod, and NULLs, which are not indexed
CREATE TABLE check_untyped (v vector);
INSERT INTO check_untyped SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE ARRAY[i, 1]::vector END FROM generate_series(1, 100) i;
CREATE INDEX check_untyped_idx ON check_untyped USING hnsw (v vector_l2_ops);
SELECT check_summary('check_untyped_idx');
DROP TABLE check_untyped;

-- many copies of one vector: their heap TIDs overflow into a chain of their own tuples
CREATE TABLE check_copies (id int, v vector(3));
INSERT INTO check_copies SELECT i, '[5,5,5]' FROM generate_series(1, 100) i;
CREATE INDEX check_copies_idx ON check_copies USING hnsw (v vector_l2_ops);
SELECT * FROM ann_index_check('check_copies_idx');
DELETE FROM check_copies WHERE id <= 50;
VACUUM check_copies;
SELECT * FROM ann_index_check('check_copies_idx') WHERE item IN ('overflow tuples', 'heap TIDs');
DROP TABLE check_copies;

-- once every copy is deleted, VACUUM frees the element and its chain
CREATE TABLE check_all_copies (id int, v vector(3));
INSERT INTO check_all_copies
SELECT i, CASE WHEN i <= 100 THEN '[5,5,5]' ELSE ARRAY[i, i % 7, 1]::real[]::vector END FROM generate_series(1, 150) i;
CREATE INDEX check_all_copies_idx ON check_all_copies USING hnsw (v vector_l2_ops);
SELECT * FROM ann_index_check('check_all_copies_idx') WHERE item IN ('elements', 'overflow tuples', 'heap TIDs');
DELETE FROM check_all_copies WHERE id <= 100;
VACUUM check_all_copies;
SELECT * FROM ann_index_check('check_all_copies_idx') WHERE item IN ('elements', 'dead elements', 'overflow tuples', 'heap TIDs');
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
SELECT count(*) FROM (SELECT id FROM check_all_copies ORDER BY v <-> '[5,5,5]' LIMIT 100) s;
RESET hnsw.ef_search;
RESET enable_seqscan;
DROP TABLE check_all_copies;

-- ivfflat: sound after the build, inserts into a list chain, deletes and VACUUM
CREATE TABLE check_ivf (id int, v vector(3));
INSERT INTO check_ivf SELECT i, ARRAY[i % 11, i % 7, i % 5]::vector FROM generate_series(1, 1500) i;
CREATE INDEX check_ivf_idx ON check_ivf USING ivfflat (v vector_l2_ops) WITH (lists = 5);
SELECT * FROM ann_index_check('check_ivf_idx') WHERE item IN ('lists', 'heap TIDs', 'unlinked pages');
INSERT INTO check_ivf SELECT i, ARRAY[i % 11, i % 7, i % 5]::vector FROM generate_series(1501, 4000) i;
DELETE FROM check_ivf WHERE id % 3 = 0;
VACUUM check_ivf;
SELECT * FROM ann_index_check('check_ivf_idx') WHERE item IN ('lists', 'heap TIDs', 'unlinked pages');
DROP TABLE check_ivf;

-- unlogged and temporary tables, REINDEX
CREATE UNLOGGED TABLE check_unlogged (v vector(2));
INSERT INTO check_unlogged SELECT ARRAY[i, i % 9]::vector FROM generate_series(1, 300) i;
CREATE INDEX check_unlogged_idx ON check_unlogged USING hnsw (v vector_l2_ops);
SELECT check_summary('check_unlogged_idx');
REINDEX INDEX check_unlogged_idx;
SELECT check_summary('check_unlogged_idx');
DROP TABLE check_unlogged;
CREATE TEMP TABLE check_temp (v vector(2));
INSERT INTO check_temp SELECT ARRAY[i, i % 9]::vector FROM generate_series(1, 300) i;
CREATE INDEX check_temp_idx ON check_temp USING hnsw (v vector_l2_ops);
SELECT check_summary('check_temp_idx');
DROP TABLE check_temp;

-- what it refuses: tables, other access methods, partitioned and invalid indexes
CREATE TABLE check_other (id int PRIMARY KEY, v vector(2));
SELECT * FROM ann_index_check('check_other');
\set VERBOSITY sqlstate
SELECT * FROM ann_index_check('check_other_pkey');
\set VERBOSITY default
SELECT * FROM ann_index_check('check_other_pkey');
CREATE TABLE check_parted (id int, v vector(2)) PARTITION BY RANGE (id);
CREATE TABLE check_parted_1 PARTITION OF check_parted FOR VALUES FROM (0) TO (100);
INSERT INTO check_parted SELECT i, ARRAY[i, 1]::vector FROM generate_series(0, 99) i;
CREATE INDEX check_parted_idx ON check_parted USING hnsw (v vector_l2_ops);
SELECT * FROM ann_index_check('check_parted_idx');
SELECT check_summary(indexrelid::regclass) FROM pg_index WHERE indrelid = 'check_parted_1'::regclass;
DROP TABLE check_parted;
-- a failed CREATE INDEX CONCURRENTLY leaves an invalid index behind
CREATE TABLE check_invalid (v vector);
INSERT INTO check_invalid VALUES ('[1,2]'), ('[1,2,3]');
CREATE INDEX CONCURRENTLY check_invalid_idx ON check_invalid USING hnsw (v vector_l2_ops);
SELECT * FROM ann_index_check('check_invalid_idx');
DROP TABLE check_invalid, check_other;

-- superusers only, unless granted
CREATE ROLE regress_ann_check_user;
CREATE TABLE check_owned (v vector(2));
ALTER TABLE check_owned OWNER TO regress_ann_check_user;
CREATE INDEX check_owned_idx ON check_owned USING hnsw (v vector_l2_ops);
SET ROLE regress_ann_check_user;
SELECT * FROM ann_index_check('check_owned_idx');
RESET ROLE;
DROP TABLE check_owned;
DROP ROLE regress_ann_check_user;

DROP FUNCTION check_summary(regclass);
