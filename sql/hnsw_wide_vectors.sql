-- hnsw on vectors too wide to share a page with an element's links: each vector lives in a
-- chain of page-sized chunks the element points to (src/pg/hnsw_page.hpp). At m = 16 the
-- widest vector kept inline has 1,867 dimensions; 2,000 take one chunk, 16,000 eight.
CREATE FUNCTION wide_vector(seed int, dim int) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
	SELECT array_agg(sin(seed * 0.731::float8 + j * 0.137::float8) + cos(seed * j * 0.0011::float8))::vector
	FROM generate_series(1, dim) j $$;

-- With ef_search above the row count the search reaches every element, so the index must
-- return exactly what an exact scan returns.
CREATE FUNCTION wide_mismatches(tab regclass, op text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    mismatches bigint := 0;
    dim int;
    query vector;
    by_index int[];
    exact int[];
BEGIN
    EXECUTE format('SELECT vector_dims(v) FROM %s LIMIT 1', tab) INTO dim;
    FOR seed IN 1001..1005 LOOP
        query := wide_vector(seed, dim);
        SET LOCAL enable_seqscan = off;
        EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %s ORDER BY v %s $1 LIMIT 10) s', tab, op)
            INTO by_index USING query;
        SET LOCAL enable_seqscan = on;
        SET LOCAL enable_indexscan = off;
        EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %s ORDER BY v %s $1 LIMIT 10) s', tab, op)
            INTO exact USING query;
        SET LOCAL enable_indexscan = on;
        IF by_index IS DISTINCT FROM exact THEN
            mismatches := mismatches + 1;
        END IF;
    END LOOP;
    RETURN mismatches;
END $$;

-- ann_index_check passes (it raises an error otherwise) and counts elements and chunks.
CREATE FUNCTION wide_check(index regclass) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(item || ' ' || count, ', ' ORDER BY item) FROM ann_index_check(index)
	WHERE item IN ('elements', 'dead elements', 'vector chunks', 'heap TIDs') $$;

SET hnsw.ef_search = 400;

-- 2,000 dimensions, at m = 16 (l2) and m = 100 (cosine): build, inserts, DELETE and VACUUM
-- (fewer rows than m = 100 has links at level 0, which keeps its inserts quick)
CREATE TABLE wide_2000 (id int, v vector(2000));
INSERT INTO wide_2000 SELECT i, wide_vector(i, 2000) FROM generate_series(1, 150) i;
CREATE INDEX wide_2000_l2 ON wide_2000 USING hnsw (v vector_l2_ops);
CREATE INDEX wide_2000_cos ON wide_2000 USING hnsw (v vector_cosine_ops) WITH (m = 100, ef_construction = 200);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM wide_2000 ORDER BY v <-> (SELECT v FROM wide_2000 WHERE id = 1) LIMIT 10;
RESET enable_seqscan;
SELECT wide_mismatches('wide_2000', '<->'), wide_mismatches('wide_2000', '<=>');
SELECT wide_check('wide_2000_l2'), wide_check('wide_2000_cos');
INSERT INTO wide_2000 SELECT i, wide_vector(i, 2000) FROM generate_series(151, 190) i;
SELECT wide_mismatches('wide_2000', '<->'), wide_mismatches('wide_2000', '<=>');
SELECT wide_check('wide_2000_l2'), wide_check('wide_2000_cos');
DELETE FROM wide_2000 WHERE id % 3 = 0;
VACUUM wide_2000;
-- the deleted rows' elements are gone, and their vector chunks with them
SELECT wide_check('wide_2000_l2'), wide_check('wide_2000_cos');
SELECT wide_mismatches('wide_2000', '<->'), wide_mismatches('wide_2000', '<=>');
-- copies of a vector share its element (and its chunks)
INSERT INTO wide_2000 SELECT 1000 + i, v FROM wide_2000, generate_series(1, 3) i WHERE id = 1;
SELECT wide_check('wide_2000_l2');
SET enable_seqscan = off;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM wide_2000 ORDER BY v <-> wide_vector(1, 2000) LIMIT 4) s;
RESET enable_seqscan;
DROP TABLE wide_2000;

-- 16,000 dimensions, the vector type's limit: eight chunks per vector
CREATE TABLE wide_16000 (id int, v vector(16000));
INSERT INTO wide_16000 SELECT i, wide_vector(i, 16000) FROM generate_series(1, 60) i;
CREATE INDEX wide_16000_l2 ON wide_16000 USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
CREATE INDEX wide_16000_cos ON wide_16000 USING hnsw (v vector_cosine_ops);
SELECT wide_mismatches('wide_16000', '<->'), wide_mismatches('wide_16000', '<=>');
SELECT wide_check('wide_16000_l2'), wide_check('wide_16000_cos');
INSERT INTO wide_16000 SELECT i, wide_vector(i, 16000) FROM generate_series(61, 90) i;
DELETE FROM wide_16000 WHERE id % 4 = 0;
VACUUM wide_16000;
SELECT wide_mismatches('wide_16000', '<->'), wide_mismatches('wide_16000', '<=>');
SELECT wide_check('wide_16000_l2'), wide_check('wide_16000_cos');
DROP TABLE wide_16000;

-- an index built empty on a column without typmod takes its storage from the first row
CREATE TABLE wide_untyped (id int, v vector);
CREATE INDEX wide_untyped_idx ON wide_untyped USING hnsw (v vector_l2_ops) WITH (m = 100, ef_construction = 200);
INSERT INTO wide_untyped SELECT i, wide_vector(i, 3000) FROM generate_series(1, 50) i;
SELECT wide_mismatches('wide_untyped', '<->');
SELECT wide_check('wide_untyped_idx');
INSERT INTO wide_untyped VALUES (0, wide_vector(0, 2000));
DROP TABLE wide_untyped;

RESET hnsw.ef_search;
DROP FUNCTION wide_mismatches, wide_check, wide_vector;
