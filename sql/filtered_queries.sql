-- Filtered vector queries beyond a plain WHERE: partial indexes, partitioned tables and
-- distance bounds, for both index methods.
SET enable_seqscan = off;

CREATE TABLE fq (id int, category int, v vector(3));
INSERT INTO fq
SELECT i, i % 4, ARRAY[cos(i * 0.37) * (1 + i % 7), sin(i * 0.37) * (1 + i % 5), (i % 11) - 5.0]::real[]::vector
FROM generate_series(1, 4000) i;

-- Partial indexes: used when the query implies their predicate, and then exact here.
CREATE INDEX fq_hnsw_cat1 ON fq USING hnsw (v vector_l2_ops) WHERE category = 1;
CREATE INDEX fq_ivf_cat2 ON fq USING ivfflat (v vector_l2_ops) WITH (lists = 5) WHERE category = 2;
ANALYZE fq;
EXPLAIN (COSTS OFF) SELECT id FROM fq WHERE category = 1 ORDER BY v <-> '[1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM fq WHERE category = 2 ORDER BY v <-> '[1,1,1]' LIMIT 5;
SET hnsw.ef_search = 200;
SET ivfflat.probes = 5;
SELECT array_agg(id ORDER BY d, id) = (SELECT array_agg(id ORDER BY d, id) FROM
         (SELECT id, v <-> '[1,1,1]' AS d FROM fq WHERE category = 1 ORDER BY d, id LIMIT 5) e) AS hnsw_partial_exact
FROM (SELECT id, v <-> '[1,1,1]' AS d FROM fq WHERE category = 1 ORDER BY v <-> '[1,1,1]' LIMIT 5) s;
SELECT array_agg(id ORDER BY d, id) = (SELECT array_agg(id ORDER BY d, id) FROM
         (SELECT id, v <-> '[1,1,1]' AS d FROM fq WHERE category = 2 ORDER BY d, id LIMIT 5) e) AS ivfflat_partial_exact
FROM (SELECT id, v <-> '[1,1,1]' AS d FROM fq WHERE category = 2 ORDER BY v <-> '[1,1,1]' LIMIT 5) s;
-- A query that does not imply the predicate cannot use the partial index.
EXPLAIN (COSTS OFF) SELECT id FROM fq WHERE category = 3 ORDER BY v <-> '[1,1,1]' LIMIT 5;

-- Distance-bounded queries: every row returned is within the bound, and with an iterative
-- scan the query gets every row within it up to its LIMIT.
CREATE INDEX fq_hnsw ON fq USING hnsw (v vector_l2_ops);
SET hnsw.ef_search = 40;
SET hnsw.iterative_scan = relaxed_order;
EXPLAIN (COSTS OFF) SELECT id FROM fq WHERE v <-> '[1,1,1]' < 1.5 ORDER BY v <-> '[1,1,1]' LIMIT 100;
SELECT count(*) AS rows, bool_and(d < 1.5) AS all_within,
       count(*) = (SELECT count(*) FROM (SELECT 1 FROM fq WHERE v <-> '[1,1,1]' < 1.5 LIMIT 100) e) AS as_many_as_exact
FROM (SELECT id, v <-> '[1,1,1]' AS d FROM fq WHERE v <-> '[1,1,1]' < 1.5 ORDER BY v <-> '[1,1,1]' LIMIT 100) s;
RESET hnsw.iterative_scan;
DROP TABLE fq;

-- Partitioned tables: an index on the parent creates one per partition, and a query
-- pruned to one partition scans only that partition's index.
CREATE TABLE fq_parted (id int, region int, v vector(3)) PARTITION BY LIST (region);
CREATE TABLE fq_parted_0 PARTITION OF fq_parted FOR VALUES IN (0);
CREATE TABLE fq_parted_1 PARTITION OF fq_parted FOR VALUES IN (1);
INSERT INTO fq_parted
SELECT i, i % 2, ARRAY[cos(i * 0.37) * (1 + i % 7), sin(i * 0.37) * (1 + i % 5), (i % 11) - 5.0]::real[]::vector
FROM generate_series(1, 4000) i;
CREATE INDEX fq_parted_hnsw ON fq_parted USING hnsw (v vector_cosine_ops);
CREATE INDEX fq_parted_ivf ON fq_parted USING ivfflat (v vector_l2_ops) WITH (lists = 4);
ANALYZE fq_parted;
SELECT relname FROM pg_class WHERE relname LIKE 'fq_parted_%' AND relkind = 'i' ORDER BY 1;
EXPLAIN (COSTS OFF) SELECT id FROM fq_parted WHERE region = 1 ORDER BY v <=> '[1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM fq_parted WHERE region = 0 ORDER BY v <-> '[1,1,1]' LIMIT 5;
SET hnsw.ef_search = 200;
SELECT array_agg(id ORDER BY d, id) = (SELECT array_agg(id ORDER BY d, id) FROM
         (SELECT id, v <=> '[1,1,1]' AS d FROM fq_parted WHERE region = 1 ORDER BY d, id LIMIT 5) e) AS partition_exact
FROM (SELECT id, v <=> '[1,1,1]' AS d FROM fq_parted WHERE region = 1 ORDER BY v <=> '[1,1,1]' LIMIT 5) s;
-- Without the partition key the partitions' index scans are merged in distance order.
EXPLAIN (COSTS OFF) SELECT id FROM fq_parted ORDER BY v <=> '[1,1,1]' LIMIT 5;
DROP TABLE fq_parted;
