-- vector casts: arrays to vector (assignment), vector to real[] (implicit), typmod coercion

SELECT ARRAY[1,2,3]::vector;
SELECT ARRAY[1.5,2.25,-3]::vector;
SELECT ARRAY[1,2,3]::real[]::vector;
SELECT ARRAY[1,2,3]::double precision[]::vector;
SELECT ARRAY[1,2,3]::numeric[]::vector;
SELECT ARRAY[0.1,0.2]::numeric[]::vector;
SELECT '{1,2,3}'::real[]::vector;
SELECT '{1,2,3}'::real[]::vector(3);
SELECT '{1,2,3}'::real[]::vector(2);
SELECT '{1,2,3}'::integer[]::vector(2);
SELECT '{1,2,3}'::double precision[]::vector(2);
SELECT '{1,2,3}'::numeric[]::vector(2);
-- integers and doubles round to the nearest float4
SELECT ARRAY[16777217]::vector, 16777217::real;
SELECT ARRAY[0.1::double precision]::vector, 0.1::double precision::real;
SELECT '{4e38,-4e38}'::double precision[]::vector;
SELECT '{1e-46,-1e-46}'::double precision[]::vector;

-- rejected arrays
SELECT '{NULL}'::real[]::vector;
SELECT '{1,NULL,3}'::integer[]::vector;
SELECT '{NaN}'::real[]::vector;
SELECT '{Infinity}'::real[]::vector;
SELECT '{-Infinity}'::real[]::vector;
SELECT '{NaN}'::double precision[]::vector;
SELECT '{NaN}'::numeric[]::vector;
SELECT '{Infinity}'::numeric[]::vector;
SELECT '{}'::real[]::vector;
SELECT '{}'::integer[]::vector;
SELECT '{{1}}'::real[]::vector;
SELECT '{{1,2},{3,4}}'::integer[]::vector;
SELECT array_agg(n)::vector FROM generate_series(1, 16001) n;
SELECT array_to_vector(array_agg(n), 16001, false) FROM generate_series(1, 16001) n;
SELECT vector_dims(array_agg(n)::vector) FROM generate_series(1, 16000) n;
-- a non-1-based array is still 1-D
SELECT '[5:7]={1,2,3}'::integer[]::vector;

-- the cast functions themselves
SELECT array_to_vector('{1,2}'::integer[], -1, false);
SELECT array_to_vector('{1,2}'::real[], 2, true);
SELECT array_to_vector('{1,2}'::double precision[], 3, true);
SELECT vector_to_float4('[1,2]', -1, false);
SELECT vector('[1,2]', 2, true);
SELECT vector('[1,2]', 3, true);

-- vector -> real[]
SELECT '[1,2,3]'::vector::real[];
SELECT '[1.5,-0.25,1e-05]'::vector::real[];
SELECT pg_typeof('[1]'::vector::real[]);
-- implicit: a vector is accepted where real[] is expected
CREATE FUNCTION vector_casts_count(real[]) RETURNS int AS 'SELECT array_length($1, 1)' LANGUAGE sql;
SELECT vector_casts_count('[1,2,3]'::vector);
DROP FUNCTION vector_casts_count(real[]);

-- vector -> vector(n)
SELECT '[1,2,3]'::vector::vector(3);
SELECT '[1,2,3]'::vector::vector(2);
SELECT ('[1,2,3]'::vector(3))::vector(4);

-- assignment casts into a vector(n) column
CREATE TABLE vector_casts_t (v vector(3));
INSERT INTO vector_casts_t VALUES (ARRAY[1,2,3]);
INSERT INTO vector_casts_t VALUES ('{4,5,6}'::real[]);
INSERT INTO vector_casts_t VALUES ('{7,8,9}'::double precision[]);
INSERT INTO vector_casts_t VALUES (ARRAY[1.5,2.5,3.5]);
INSERT INTO vector_casts_t VALUES (ARRAY[1,2]);
INSERT INTO vector_casts_t VALUES ('[1,2]'::vector);
UPDATE vector_casts_t SET v = ARRAY[0,0,0] WHERE v = '[1,2,3]';
SELECT * FROM vector_casts_t ORDER BY v;
DROP TABLE vector_casts_t;

-- the extra casts must not make array comparisons ambiguous
SELECT ARRAY[1,2,3] = ARRAY[1,2,3];
SELECT ARRAY[1.5,2] = ARRAY[1.5,2];

-- catalog
SELECT castsource::regtype, casttarget::regtype, castfunc::regprocedure, castcontext
FROM pg_cast
WHERE castsource IN ('vector'::regtype, 'integer[]'::regtype, 'real[]'::regtype,
                     'double precision[]'::regtype, 'numeric[]'::regtype)
  AND casttarget IN ('vector'::regtype, 'real[]'::regtype)
  AND 'vector'::regtype IN (castsource, casttarget)
ORDER BY castsource::regtype::text COLLATE "C", casttarget::regtype::text COLLATE "C";
