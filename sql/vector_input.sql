-- vector text input and output, typmods, storage layout, dimension limits

-- accepted forms
SELECT '[1,2,3]'::vector;
SELECT '[-1,-2,-3]'::vector;
SELECT '[1.,2.,3.]'::vector;
SELECT '[+1,-0,0]'::vector;
SELECT ' [ 1,  2 ,    3  ] '::vector;
SELECT (E'\t[\n1,\r2\f,' || chr(11) || E'3]\n')::vector;
SELECT '[1e-3,1E3,-2.5e+2]'::vector;
SELECT '[0x1p3,0x1.8p1,-0x10]'::vector;
SELECT '[.5,5.]'::vector;

-- output: shortest decimal that round-trips each float4, no spaces
SELECT '[1.5,-0.25,1e-05]'::vector;
SELECT '[1.23456]'::vector;
SELECT '[0.1,0.2,0.3]'::vector;
SELECT '[3.4028235e38,-3.4028235e38]'::vector;
SELECT '[1.5e38,-1.5e38]'::vector;
SELECT '[1.5e-38,-1.5e-38]'::vector;
SELECT '[123456789,0.000123456789]'::vector;
-- underflow rounds to zero (keeping the sign)
SELECT '[1e-46,-1e-46]'::vector;
-- the output is exactly what float4out prints for each element
SELECT count(*) AS mismatches
FROM (SELECT ARRAY[(i * 0.37)::real, (1.0 / i)::real, (i * 1234.5678)::real, (-i * 1e-7)::real]::vector AS v
      FROM generate_series(1, 1000) i) s
WHERE v::text <> '[' || array_to_string(v::real[], ',') || ']';
-- and text input reads it back exactly
SELECT count(*) AS mismatches
FROM (SELECT ARRAY[(i * 0.37)::real, (1.0 / i)::real, (i * 1234.5678)::real, (-i * 1e-7)::real]::vector AS v
      FROM generate_series(1, 1000) i) s
WHERE vector_send(v::text::vector) <> vector_send(v);

-- rejected forms
SELECT ''::vector;
SELECT '1,2,3'::vector;
SELECT '(1,2,3)'::vector;
SELECT '['::vector;
SELECT '[,'::vector;
SELECT '[]'::vector;
SELECT '[ ]'::vector;
SELECT '[1,]'::vector;
SELECT '[,1]'::vector;
SELECT '[1,,2]'::vector;
SELECT '[1, ,3]'::vector;
SELECT '[1a]'::vector;
SELECT '[1 2]'::vector;
SELECT '[hello,1]'::vector;
SELECT '[1,2,3'::vector;
SELECT '[1,2,3,'::vector;
SELECT '[1,2,3]9'::vector;
SELECT '[1,2,3] ]'::vector;
SELECT '[1,2,3][4]'::vector;
SELECT '[NaN,1]'::vector;
SELECT '[1,nan]'::vector;
SELECT '[Infinity,1]'::vector;
SELECT '[-Infinity,1]'::vector;
SELECT '[1,inf]'::vector;
SELECT '[4e38,1]'::vector;
SELECT '[1,-4e38]'::vector;
SELECT '[1e39]'::vector;

-- typmod
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2,3]'::vector(2);
SELECT '[1,2]'::vector(3);
SELECT '[1]'::vector(1);
SELECT '[1,2,3]'::vector(0);
SELECT '[1,2,3]'::vector(-1);
SELECT '[1,2,3]'::vector(16001);
SELECT '[1,2,3]'::vector(3, 2);
SELECT unnest('{"[1,2,3]", "[4,5,6]"}'::vector[]);
SELECT '{"[1,2,3]"}'::vector(2)[];

CREATE TABLE vector_input_t (id int, v vector(3));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'vector_input_t'::regclass AND attname = 'v';
INSERT INTO vector_input_t VALUES (1, '[1,2,3]'), (2, NULL), (3, ' [4, 5, 6] ');
INSERT INTO vector_input_t VALUES (4, '[1,2]');
INSERT INTO vector_input_t VALUES (4, '[1,2,3,4]'::vector);
SELECT * FROM vector_input_t ORDER BY id;
SELECT id, v IS NULL AS is_null FROM vector_input_t ORDER BY id;
CREATE TABLE vector_input_bad (v vector(0));
CREATE TABLE vector_input_bad (v vector(16001));
DROP TABLE vector_input_t;

-- NULL
SELECT NULL::vector;
SELECT NULL::vector(3) IS NULL;

-- on-disk layout: 4-byte varlena header, int16 dim, int16 unused, float4 elements;
-- storage external
SELECT pg_column_size('[1,2,3]'::vector);
SELECT pg_column_size('[1]'::vector);
SELECT typstorage, typlen, typalign FROM pg_type WHERE typname = 'vector';

-- dimension limit: 16000 accepted, 16001 rejected
SELECT vector_dims(('[' || array_to_string(array_fill(1.5, ARRAY[16000]), ',') || ']')::vector);
SELECT vector_dims(('[' || array_to_string(array_fill(1.5, ARRAY[16001]), ',') || ']')::vector);
SELECT vector_dims(('[' || array_to_string(array_fill(1.5, ARRAY[16000]), ',') || ']')::vector(16000));
CREATE TABLE vector_input_big (v vector(16000));
INSERT INTO vector_input_big
SELECT ('[' || array_to_string(array_agg(i % 7 - 3), ',') || ']')::vector FROM generate_series(1, 16000) i;
SELECT vector_dims(v), length(v::text), left(v::text, 20), right(v::text, 20) FROM vector_input_big;
SELECT v = v::text::vector AS round_trip FROM vector_input_big;
DROP TABLE vector_input_big;
