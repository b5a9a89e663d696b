-- the default btree opclass: ORDER BY, DISTINCT, GROUP BY, UNIQUE, index scans

CREATE TABLE vector_btree_t (id int, v vector);
INSERT INTO vector_btree_t VALUES
    (1, '[1,2,3]'), (2, '[1,2]'), (3, '[1,2,4]'), (4, '[0,5]'), (5, NULL),
    (6, '[1,2,3]'), (7, '[-1]'), (8, '[1,2,3,0]'), (9, '[10]'), (10, '[0,5]');

SELECT id, v FROM vector_btree_t ORDER BY v, id;
SELECT id, v FROM vector_btree_t ORDER BY v DESC NULLS LAST, id;
SELECT DISTINCT v FROM vector_btree_t ORDER BY v;
SELECT v, count(*) FROM vector_btree_t GROUP BY v ORDER BY v;
SELECT count(DISTINCT v) FROM vector_btree_t;
SELECT count(DISTINCT v) FROM unnest(ARRAY['[0,1]'::vector, '[-0,1]']) v;
SELECT id FROM vector_btree_t WHERE v < '[1,2,3]' ORDER BY id;
SELECT id FROM vector_btree_t WHERE v BETWEEN '[1,2]' AND '[1,2,3,0]' ORDER BY id;

-- btree index: equality and range scans
CREATE INDEX vector_btree_idx ON vector_btree_t (v);
ANALYZE vector_btree_t;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM vector_btree_t WHERE v = '[1,2,3]';
SELECT id FROM vector_btree_t WHERE v = '[1,2,3]' ORDER BY id;
SELECT id FROM vector_btree_t WHERE v >= '[1,2,3]' AND v < '[2]' ORDER BY id;
SELECT v FROM vector_btree_t WHERE v IS NOT NULL ORDER BY v LIMIT 3;
RESET enable_seqscan;

-- merge join on vectors (= is MERGES)
SET enable_hashjoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT a.id, b.id FROM vector_btree_t a JOIN vector_btree_t b ON a.v = b.v;
SELECT a.id, b.id FROM vector_btree_t a JOIN vector_btree_t b ON a.v = b.v
WHERE a.id < b.id ORDER BY a.id, b.id;
RESET enable_hashjoin;
RESET enable_nestloop;

-- unique
CREATE TABLE vector_btree_u (v vector(2) UNIQUE);
INSERT INTO vector_btree_u VALUES ('[1,2]'), ('[2,1]'), (NULL), (NULL);
INSERT INTO vector_btree_u VALUES ('[1,2]');
INSERT INTO vector_btree_u VALUES ('[1,2]') ON CONFLICT (v) DO NOTHING;
SELECT * FROM vector_btree_u ORDER BY v;

-- opclass catalog
SELECT opcname, opcdefault, amname
FROM pg_opclass JOIN pg_am ON pg_am.oid = opcmethod
WHERE opcintype = 'vector'::regtype AND amname = 'btree';
SELECT amopstrategy, amopopr::regoperator
FROM pg_amop JOIN pg_opfamily f ON f.oid = amopfamily JOIN pg_am ON pg_am.oid = f.opfmethod
WHERE amname = 'btree' AND amoplefttype = 'vector'::regtype
ORDER BY amopstrategy;

DROP TABLE vector_btree_t, vector_btree_u;
