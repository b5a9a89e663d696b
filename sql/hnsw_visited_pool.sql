-- hnsw: an index scan's visited set lives in memory the session keeps between scans (the
-- "hnsw visited sets" context). A scan that an error ends gives it back too: queries that
-- fail again and again must not pile it up.
CREATE TABLE pool_items (id int, category int, v vector(2));
INSERT INTO pool_items SELECT i, i % 10, ARRAY[cos(i * 0.1) * i, sin(i * 0.1) * i] FROM generate_series(1, 3000) i;
CREATE INDEX ON pool_items USING hnsw (v vector_l2_ops) WITH (m = 8);
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;

-- The filter divides by zero on the rows of category 0, a tenth of them: every scan fails.
CREATE FUNCTION failing_scans(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE failed int := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            PERFORM id FROM pool_items WHERE 10 / category > 1 ORDER BY v <-> ARRAY[i * 30, -i * 30]::vector LIMIT 5;
        EXCEPTION WHEN division_by_zero THEN
            failed := failed + 1;
        END;
    END LOOP;
    RETURN failed;
END $$;
SELECT failing_scans(40) AS failed;
-- Forty lost visited sets would hold some 2.5 MB.
SELECT total_bytes < 1024 * 1024 AS pool_bounded FROM pg_backend_memory_contexts WHERE name = 'hnsw visited sets';

-- Scans after the failures answer exactly.
SELECT ARRAY(SELECT id FROM pool_items WHERE category = 3 ORDER BY v <-> '[100,100]' LIMIT 5) =
       ARRAY(SELECT id FROM pool_items WHERE category = 3 ORDER BY (v <-> '[100,100]') + 0 LIMIT 5) AS same;

RESET hnsw.iterative_scan;
RESET enable_seqscan;
DROP FUNCTION failing_scans;
DROP TABLE pool_items;
