-- ann_recall: recall@k of an index on the table's own vectors, under the session's settings
CREATE TABLE recall_items (id int PRIMARY KEY, v vector(4));
SELECT setseed(0.25);
INSERT INTO recall_items
SELECT i, ARRAY[random(), random(), random(), random()]::vector FROM generate_series(1, 500) i;
CREATE INDEX recall_items_l2 ON recall_items USING hnsw (v vector_l2_ops);

-- Errors come back with their SQLSTATE.
CREATE FUNCTION recall_error(call text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- With ef_search above the row count the graph scan reaches every element: recall is 1.
SET hnsw.ef_search = 1000;
SELECT index_name, distance_operator, queries, recall, min_recall, short_queries,
       index_ms > 0 AS index_timed, exact_ms > 0 AS exact_timed,
       search_settings LIKE '%hnsw.ef_search=1000%' AS reports_session_setting
FROM ann_recall('recall_items', 'v', 50, 10);

-- An hnsw scan returns at most ef_search rows, so at ef_search = 1 recall@10 is at most 0.1
-- and every query comes back short.
SET hnsw.ef_search = 1;
SELECT recall <= 0.1 AS at_most_one_in_ten, recall > 0 AS finds_something,
       short_queries = queries AS all_short
FROM ann_recall('recall_items', 'v', 50, 10);

-- More samples than rows: every row is a query once.
SET hnsw.ef_search = 1000;
SELECT queries FROM ann_recall('recall_items', 'v', 10000, 5);

-- The index path uses the index and the exact path does not, whatever the caller's planner
-- settings; the caller's settings are restored afterwards, inside a transaction too.
SET enable_indexscan = off;
BEGIN;
SET LOCAL enable_seqscan = off;
SELECT recall = 1 AS exact_again FROM ann_recall('recall_items', 'v', 20);
SELECT current_setting('enable_seqscan') AS seqscan, current_setting('enable_indexscan') AS indexscan,
       current_setting('enable_bitmapscan') AS bitmapscan, current_setting('enable_indexonlyscan') AS indexonlyscan;
COMMIT;
SELECT current_setting('enable_seqscan') AS seqscan, current_setting('enable_indexscan') AS indexscan;
RESET enable_indexscan;

-- Duplicates: rows tied with the k-th exact distance count as found, whichever of the
-- identical rows each path returns.
CREATE TABLE recall_ties (v vector(2));
INSERT INTO recall_ties SELECT '[1,1]' FROM generate_series(1, 40);
INSERT INTO recall_ties SELECT ARRAY[i, -i]::vector FROM generate_series(10, 49) i;
CREATE INDEX ON recall_ties USING hnsw (v vector_l2_ops);
SELECT recall, min_recall FROM ann_recall('recall_ties', 'v', 80, 10);

-- The operator comes from the index's operator class; with indexes for several operators
-- it must be named.
CREATE INDEX recall_items_cos ON recall_items USING hnsw (v vector_cosine_ops);
SELECT recall_error($$SELECT * FROM ann_recall('recall_items', 'v')$$);
SELECT index_name, distance_operator, recall FROM ann_recall('recall_items', 'v', 20, op => '<=>');
SELECT recall_error($$SELECT * FROM ann_recall('recall_items', 'v', op => '<#>')$$);
-- Two indexes for one operator: which one the planner measured would be a guess.
CREATE INDEX recall_items_l2_again ON recall_items USING hnsw (v vector_l2_ops) WITH (m = 4);
SELECT recall_error($$SELECT * FROM ann_recall('recall_items', 'v', op => '<->')$$);
DROP INDEX recall_items_l2_again, recall_items_cos;

-- Cosine distance: zero vectors (no distance to anything) are never sampled.
CREATE TABLE recall_zero (v vector(3));
INSERT INTO recall_zero SELECT '[0,0,0]' FROM generate_series(1, 5);
CREATE INDEX ON recall_zero USING hnsw (v vector_cosine_ops);
SELECT recall_error($$SELECT * FROM ann_recall('recall_zero', 'v')$$);
INSERT INTO recall_zero VALUES ('[1,2,3]'), ('[3,2,1]');
SELECT queries, recall FROM ann_recall('recall_zero', 'v');

-- errors
SELECT recall_error($$SELECT * FROM ann_recall(NULL, 'v')$$);
SELECT recall_error($$SELECT * FROM ann_recall('recall_items', NULL)$$);
SELECT recall_error($$SELECT * FROM ann_recall('recall_items', 'v', 0)$$);
SELECT recall_error($$SELECT * FROM ann_recall('recall_items', 'v', 10, 0)$$);
SELECT recall_error($$SELECT * FROM ann_recall('recall_items', 'nope')$$);
SELECT recall_error($$SELECT * FROM ann_recall('recall_items', 'id')$$);
SELECT recall_error($$SELECT * FROM ann_recall('recall_missing', 'v')$$);
CREATE TABLE recall_empty (v vector(3));
CREATE INDEX ON recall_empty USING hnsw (v vector_l2_ops);
SELECT recall_error($$SELECT * FROM ann_recall('recall_empty', 'v')$$);
INSERT INTO recall_empty VALUES (NULL), (NULL);
SELECT recall_error($$SELECT * FROM ann_recall('recall_empty', 'v')$$);
-- A partial index answers only some queries: not usable.
CREATE TABLE recall_partial (id int, v vector(3));
CREATE INDEX ON recall_partial USING hnsw (v vector_l2_ops) WHERE id > 0;
SELECT recall_error($$SELECT * FROM ann_recall('recall_partial', 'v')$$);

DROP TABLE recall_items, recall_ties, recall_zero, recall_empty, recall_partial;
DROP FUNCTION recall_error(text);
RESET hnsw.ef_search;
