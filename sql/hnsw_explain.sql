-- hnsw: EXPLAIN (ANALYZE, BUFFERS) of an index scan counts the pages it touched, since the
-- scan reads index pages through the buffer manager. The counts depend on the page layout
-- and on what is cached, so only their relations are shown.
CREATE TABLE explain_items (id int PRIMARY KEY, v vector(8));
INSERT INTO explain_items
SELECT g, ARRAY[sin(g), cos(g), sin(2 * g), cos(2 * g), sin(3 * g), cos(3 * g), sin(5 * g), cos(5 * g)]::vector
FROM generate_series(1, 3000) g;
CREATE INDEX explain_items_v ON explain_items USING hnsw (v vector_l2_ops) WITH (m = 8);

-- Buffer counts of the scan node of a LIMIT 5 query at the given ef_search (index pages
-- and the heap pages of the rows returned).
CREATE FUNCTION hnsw_scan_buffers(ef_search int, OUT node text, OUT hit bigint, OUT read bigint)
LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    PERFORM set_config('hnsw.ef_search', ef_search::text, true);
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
             SELECT id FROM explain_items ORDER BY v <-> ''[0.5,0.5,0,1,0.3,-0.2,0.1,0.9]'' LIMIT 5'
        INTO plan;
    node := plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Node Type';
    hit := (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Shared Hit Blocks')::bigint;
    read := (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Shared Read Blocks')::bigint;
END $$;

SET enable_seqscan = off;
SELECT node, hit + read > 5 AS more_than_the_heap_pages_of_5_rows
FROM hnsw_scan_buffers(10);
-- A wider search visits more elements, on more pages.
SELECT (SELECT hit + read FROM hnsw_scan_buffers(200)) > (SELECT hit + read FROM hnsw_scan_buffers(10))
    AS wider_search_touches_more_buffers;
RESET enable_seqscan;

DROP FUNCTION hnsw_scan_buffers(int);
DROP TABLE explain_items;
