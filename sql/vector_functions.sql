-- vector functions: distances, norms, normalisation, subvector, binary quantisation
-- (small integer-valued inputs, so results do not depend on summation order)

SELECT l2_distance('[0,0]', '[3,4]');
SELECT l2_distance('[0,0]', '[0,1]');
SELECT l2_distance('[1,2,3]', '[1,2,3]');
SELECT l2_distance('[1,2]', '[3]');
SELECT vector_l2_squared_distance('[0,0]', '[3,4]');
SELECT vector_l2_squared_distance('[1,2]', '[3]');

SELECT inner_product('[1,2]', '[3,4]');
SELECT inner_product('[1,-2]', '[3,4]');
SELECT inner_product('[1,2]', '[3]');
SELECT vector_negative_inner_product('[1,2]', '[3,4]');
SELECT vector_negative_inner_product('[1,2]', '[3]');

SELECT cosine_distance('[1,2]', '[2,4]');
SELECT cosine_distance('[1,1]', '[1,1]');
SELECT cosine_distance('[1,1]', '[-1,-1]');
SELECT cosine_distance('[1,0]', '[0,1]');
SELECT cosine_distance('[3,4]', '[4,3]');
SELECT round(cosine_distance('[1,1]', '[1.1,1.1]')::numeric, 5);
-- a zero vector has no direction: NaN, not an error
SELECT cosine_distance('[1,2]', '[0,0]');
SELECT cosine_distance('[0,0]', '[0,0]');
SELECT cosine_distance('[1,2]', '[3]');

SELECT vector_spherical_distance('[1,0]', '[0,1]');
SELECT vector_spherical_distance('[1,0]', '[1,0]');
SELECT vector_spherical_distance('[1,0]', '[-1,0]');
SELECT vector_spherical_distance('[2,0]', '[2,0]');
SELECT vector_spherical_distance('[1,0]', '[1]');

SELECT l1_distance('[0,0]', '[3,4]');
SELECT l1_distance('[0,0]', '[0,1]');
SELECT l1_distance('[1,-2,3]', '[-1,2,-3]');
SELECT l1_distance('[1,2]', '[3]');

-- distances over many dimensions, exact in float
SELECT l2_distance(array_fill(1, ARRAY[1600])::vector, array_fill(2, ARRAY[1600])::vector);
SELECT inner_product(array_fill(2, ARRAY[16000])::vector, array_fill(3, ARRAY[16000])::vector);
SELECT l1_distance(array_fill(-1, ARRAY[999])::vector, array_fill(2, ARRAY[999])::vector);
SELECT cosine_distance(array_fill(2, ARRAY[777])::vector, array_fill(-5, ARRAY[777])::vector);

SELECT vector_dims('[1,2,3]');
SELECT vector_dims('[1]');
SELECT vector_dims(array_fill(0, ARRAY[16000])::vector);

SELECT vector_norm('[3,4]');
SELECT vector_norm('[0,1]');
SELECT vector_norm('[0,0]');
SELECT round(vector_norm('[1,1]')::numeric, 5);
-- accumulated in double: squares beyond the float range do not overflow
SELECT round((vector_norm('[3e37,4e37]') / 1e37)::numeric, 5);

SELECT l2_normalize('[3,4]');
SELECT l2_normalize('[3,0]');
SELECT l2_normalize('[0,-0.5]');
SELECT l2_normalize('[0,0]');
SELECT l2_normalize('[3e37,4e37]');
SELECT round(vector_norm(l2_normalize('[1,2,3,4,5]'))::numeric, 5);

SELECT binary_quantize('[1,0,-1]');
SELECT binary_quantize('[0,0.1,-0.2,-0.3,0.4,0.5,0.6,-0.7,0.8,-0.9,1]');
SELECT binary_quantize('[1,1,1,1,1,1,1,1]');
SELECT binary_quantize('[-0,0]');
SELECT pg_typeof(binary_quantize('[1]'));
SELECT length(binary_quantize(array_fill(1, ARRAY[16000])::vector));

-- subvector(v, start, count): 1-based, clipped to the vector like substring
SELECT subvector('[1,2,3,4,5]', 1, 3);
SELECT subvector('[1,2,3,4,5]', 3, 2);
SELECT subvector('[1,2,3,4,5]', 5, 1);
SELECT subvector('[1,2,3,4,5]', 3, 9);
SELECT subvector('[1,2,3,4,5]', -1, 3);
SELECT subvector('[1,2,3,4,5]', 0, 2);
SELECT subvector('[1,2,3,4,5]', 1, 2147483647);
SELECT subvector('[1,2,3,4,5]', 1, 0);
SELECT subvector('[1,2,3,4,5]', 3, -1);
SELECT subvector('[1,2,3,4,5]', 6, 1);
SELECT subvector('[1,2,3,4,5]', 0, 1);
SELECT subvector('[1,2,3,4,5]', -1, 2);
SELECT subvector('[1,2,3,4,5]', 2147483647, 2147483647);
SELECT subvector('[1,2,3,4,5]', -2147483648, 2147483647);

-- strict: NULL in, NULL out
SELECT l2_distance(NULL, '[1]') IS NULL, inner_product('[1]', NULL) IS NULL,
       cosine_distance(NULL, NULL) IS NULL, l1_distance(NULL, '[1]') IS NULL,
       vector_dims(NULL) IS NULL, vector_norm(NULL) IS NULL, l2_normalize(NULL) IS NULL,
       binary_quantize(NULL) IS NULL, subvector('[1,2]', NULL, 1) IS NULL;

-- catalog: every function is IMMUTABLE, STRICT and PARALLEL SAFE, with pgvector's signature
SELECT p.oid::regprocedure AS function, prorettype::regtype AS returns,
       provolatile, proisstrict, proparallel
FROM pg_proc p
WHERE proname IN ('vector_in', 'vector_out', 'vector_typmod_in', 'vector_recv', 'vector_send',
                  'l2_distance', 'inner_product', 'cosine_distance', 'l1_distance',
                  'vector_dims', 'vector_norm', 'l2_normalize', 'binary_quantize', 'subvector',
                  'vector_add', 'vector_sub', 'vector_mul', 'vector_concat',
                  'vector_lt', 'vector_le', 'vector_eq', 'vector_ne', 'vector_ge', 'vector_gt',
                  'vector_cmp', 'vector_l2_squared_distance', 'vector_negative_inner_product',
                  'vector_spherical_distance', 'vector_accum', 'vector_avg', 'vector_combine',
                  'vector', 'array_to_vector', 'vector_to_float4')
  AND ('vector'::regtype IN (SELECT unnest(proargtypes::oid[]) UNION ALL SELECT prorettype)
       OR proname IN ('vector_typmod_in', 'vector_combine'))
ORDER BY p.oid::regprocedure::text COLLATE "C";
