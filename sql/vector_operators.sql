-- vector operators: distances, arithmetic, concatenation, comparisons

SELECT '[0,0]'::vector <-> '[3,4]';
SELECT '[1,2]'::vector <#> '[3,4]';
SELECT '[1,2]'::vector <=> '[2,4]';
SELECT '[1,2]'::vector <=> '[0,0]';
SELECT '[0,0]'::vector <+> '[3,4]';
SELECT '[1,2]'::vector <-> '[3]';
SELECT '[1,2]'::vector <#> '[3]';
SELECT '[1,2]'::vector <=> '[3]';
SELECT '[1,2]'::vector <+> '[3]';

SELECT '[1,2,3]'::vector + '[4,5,6]';
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[1,2]'::vector + '[3]';
SELECT '[1,2,3]'::vector - '[4,5,6]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1,2]'::vector - '[3]';
SELECT '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1e37]'::vector * '[1e37]';
SELECT '[1e-37]'::vector * '[1e-37]';
SELECT '[0,1e-37]'::vector * '[1e-37,0]';
SELECT '[1,2]'::vector * '[3]';

SELECT '[1,2]'::vector || '[3,4,5]';
SELECT '[1]'::vector || '[1]';
SELECT vector_dims(array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8000])::vector);
SELECT array_fill(1, ARRAY[16000])::vector || '[1]';

-- strict: NULL operands give NULL
SELECT ('[1,2]'::vector + NULL) IS NULL, ('[1,2]'::vector <-> NULL) IS NULL,
       (NULL::vector || '[1]') IS NULL, ('[1]'::vector < NULL) IS NULL;

-- comparisons: element by element, then the shorter vector first
SELECT '[1,2,3]'::vector < '[1,2,4]', '[1,2,3]'::vector < '[1,2,3]', '[1,2,4]'::vector < '[1,2,3]';
SELECT '[1,2,3]'::vector <= '[1,2,4]', '[1,2,3]'::vector <= '[1,2,3]', '[1,2,4]'::vector <= '[1,2,3]';
SELECT '[1,2,3]'::vector = '[1,2,4]', '[1,2,3]'::vector = '[1,2,3]', '[1,2,4]'::vector = '[1,2,3]';
SELECT '[1,2,3]'::vector <> '[1,2,4]', '[1,2,3]'::vector <> '[1,2,3]', '[1,2,4]'::vector <> '[1,2,3]';
SELECT '[1,2,3]'::vector >= '[1,2,4]', '[1,2,3]'::vector >= '[1,2,3]', '[1,2,4]'::vector >= '[1,2,3]';
SELECT '[1,2,3]'::vector > '[1,2,4]', '[1,2,3]'::vector > '[1,2,3]', '[1,2,4]'::vector > '[1,2,3]';
SELECT '[1,2]'::vector < '[1,2,3]', '[1,3]'::vector > '[1,2,3]', '[1,2]'::vector = '[1,2,0]';
SELECT '[0]'::vector = '[-0]', '[-1]'::vector < '[-0]';
SELECT vector_cmp('[1,2]', '[1,3]'), vector_cmp('[1,2]', '[1,2]'), vector_cmp('[1,3]', '[1,2]'),
       vector_cmp('[1,2]', '[1,2,3]'), vector_cmp('[2]', '[1,2,3]');

-- catalog: operator signatures, commutators, negators and estimators
SELECT o.oprname, o.oprleft::regtype, o.oprright::regtype, o.oprresult::regtype,
       o.oprcode, c.oprname AS commutator, n.oprname AS negator, o.oprrest, o.oprjoin,
       o.oprcanmerge, o.oprcanhash
FROM pg_operator o
LEFT JOIN pg_operator c ON c.oid = o.oprcom
LEFT JOIN pg_operator n ON n.oid = o.oprnegate
WHERE o.oprleft = 'vector'::regtype AND o.oprright = 'vector'::regtype
ORDER BY o.oprname COLLATE "C";
