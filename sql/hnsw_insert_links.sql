-- hnsw: inserts leave every element a way in. An insert into a full neighbour list
-- re-selects it and drops one old link, which may have been its target's only in-link; that
-- target is then linked again from its nearest neighbour. Each case below is twelve rows
-- inserted in id order into an index with m = 2, one of whose inserts makes such a drop
-- (without the new link, an element becomes unreachable). The cases were found by
-- simulating the inserts' link choices: every row is within ef_construction, so each
-- insert's search sees all rows and the bottom layer's links do not depend on the random
-- levels.
CREATE TABLE hnsw_link_cases (grp int, id int, v vector(3), PRIMARY KEY (grp, id));
INSERT INTO hnsw_link_cases VALUES
(1, 1, '[-1.5,1.625,-7.75]'), (1, 2, '[0.625,1.625,-3.375]'), (1, 3, '[1.375,6.5,-7.125]'), (1, 4, '[-4.625,-0.125,-7.375]'),
(1, 5, '[-1.125,-2.125,-6.25]'), (1, 6, '[5.625,-0.875,2.875]'), (1, 7, '[6.875,-1,0.75]'), (1, 8, '[-6.75,-7.25,7.875]'),
(1, 9, '[3.625,-7.75,5.625]'), (1, 10, '[1.75,-7.75,2.75]'), (1, 11, '[7,-7.125,-8]'), (1, 12, '[-4.125,3.75,-4.875]'),
(2, 1, '[-2.25,2.375,1.375]'), (2, 2, '[-2.625,2.625,7.75]'), (2, 3, '[-6.25,5.75,-7.375]'), (2, 4, '[-3.25,7.5,7.25]'),
(2, 5, '[3.125,-4.375,-6.25]'), (2, 6, '[-3.5,-6,-5.5]'), (2, 7, '[1.125,-4.875,-1.125]'), (2, 8, '[-1.25,1.25,-5.5]'),
(2, 9, '[2.25,-3.625,2]'), (2, 10, '[-4.375,-3.625,6.5]'), (2, 11, '[7.75,6.75,-5.5]'), (2, 12, '[-5.75,-4.375,-4]'),
(3, 1, '[-7.625,-0.625,-8]'), (3, 2, '[2.75,1,2]'), (3, 3, '[-1.375,-4.75,-2.625]'), (3, 4, '[2.5,5,2.5]'),
(3, 5, '[-6,-7.25,2.625]'), (3, 6, '[2.25,-1.875,3.125]'), (3, 7, '[5.125,6.875,4.875]'), (3, 8, '[-3.25,0.25,7.875]'),
(3, 9, '[-0.125,0.875,-4.375]'), (3, 10, '[3.5,-5.875,5.375]'), (3, 11, '[4.125,5.125,-6.375]'), (3, 12, '[-3.5,-1.75,-1.375]'),
(4, 1, '[-3.375,4.5,-3.125]'), (4, 2, '[3.5,-4.25,-6.25]'), (4, 3, '[-7.25,-5.75,8]'), (4, 4, '[5,-4.625,2.625]'),
(4, 5, '[-0.25,1.875,0.875]'), (4, 6, '[3,0.875,6.375]'), (4, 7, '[1.625,-4,-6.375]'), (4, 8, '[-4.875,7.125,2.125]'),
(4, 9, '[-4.5,5.5,1]'), (4, 10, '[6.25,-6.75,3.75]'), (4, 11, '[4.625,-4.375,4.125]'), (4, 12, '[0.125,-1.5,2.375]'),
(5, 1, '[-1.75,5.75,-3.75]'), (5, 2, '[5.625,-5.25,7.125]'), (5, 3, '[-6.375,7.25,-4.75]'), (5, 4, '[1.25,-0.125,2.375]'),
(5, 5, '[2.875,-4.5,-7.5]'), (5, 6, '[-0.5,-3.125,2]'), (5, 7, '[1.125,1.5,-2.5]'), (5, 8, '[-3.25,-3.875,-0.625]'),
(5, 9, '[6.625,5.5,3.125]'), (5, 10, '[-4.625,4.25,0.75]'), (5, 11, '[-2.125,6.625,4.875]'), (5, 12, '[-7.5,-7.125,3.75]'),
(6, 1, '[-4.125,-6.25,0.25]'), (6, 2, '[0.375,-7.5,-0.25]'), (6, 3, '[3.25,-7.375,0.625]'), (6, 4, '[-3.25,2.25,4.125]'),
(6, 5, '[7.25,4.625,-7.375]'), (6, 6, '[-0.375,2.875,0.5]'), (6, 7, '[2.5,2.25,3.375]'), (6, 8, '[-4.375,-6.5,-5.375]'),
(6, 9, '[-6.875,0,-7.625]'), (6, 10, '[6.5,7.875,7.25]'), (6, 11, '[-6,-4.625,-6.625]'), (6, 12, '[-2,4,7.5]');

CREATE TABLE hnsw_links (id int, v vector(3));
CREATE INDEX hnsw_links_v ON hnsw_links USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 64);
CREATE TABLE hnsw_links_lost (grp int, id int);
SET enable_seqscan = off;
SET hnsw.ef_search = 100;
EXPLAIN (COSTS OFF)
SELECT t.id FROM hnsw_links t WHERE (SELECT u.id FROM hnsw_links u ORDER BY u.v <-> t.v LIMIT 1) IS DISTINCT FROM t.id;
DO $$
BEGIN
    FOR g IN 1..6 LOOP
        TRUNCATE hnsw_links;
        INSERT INTO hnsw_links SELECT id, v FROM hnsw_link_cases WHERE grp = g ORDER BY id;
        INSERT INTO hnsw_links_lost
        SELECT g, t.id FROM hnsw_links t
        WHERE (SELECT u.id FROM hnsw_links u ORDER BY u.v <-> t.v LIMIT 1) IS DISTINCT FROM t.id;
    END LOOP;
END $$;
-- rows their own index search does not find: none
SELECT * FROM hnsw_links_lost;
RESET enable_seqscan;
RESET hnsw.ef_search;
DROP TABLE hnsw_links, hnsw_links_lost, hnsw_link_cases;
