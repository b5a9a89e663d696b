-- vector binary I/O: send/recv format and a COPY (FORMAT binary) round trip

-- format: int16 dim, int16 unused (0), dim x float4, network byte order
SELECT vector_send('[1,2]');
SELECT vector_send('[-1.5,0,-0]');
SELECT vector_send('[3.4028235e38]');
SELECT length(vector_send(array_fill(1, ARRAY[16000])::vector));

CREATE TABLE vector_binary_src (id int, v vector);
INSERT INTO vector_binary_src VALUES
    (1, '[1,2,3]'),
    (2, '[-1.5,0,-0]'),
    (3, '[3.4028235e38,-3.4028235e38,1e-45,-1e-45,1.17549435e-38]'),
    (4, '[0.1,0.2,0.3,1e-05,123456.79]'),
    (5, NULL),
    (6, '[42]');
INSERT INTO vector_binary_src
SELECT 7, array_agg((i * 0.001 - 8)::real)::vector FROM generate_series(1, 16000) i;

-- The file lives in the data directory, so that test servers running side by side (as
-- different users) do not share it.
SELECT current_setting('data_directory') || '/ann_vector_copy.bin' AS copy_file \gset
COPY vector_binary_src TO :'copy_file' WITH (FORMAT binary);
CREATE TABLE vector_binary_dst (id int, v vector);
COPY vector_binary_dst FROM :'copy_file' WITH (FORMAT binary);

-- every row comes back bit for bit (including -0), NULL stays NULL
SELECT count(*) AS rows_back FROM vector_binary_dst;
SELECT s.id,
       vector_send(s.v) IS NOT DISTINCT FROM vector_send(d.v) AS same_bits,
       s.v IS NOT DISTINCT FROM d.v AS same_value
FROM vector_binary_src s FULL JOIN vector_binary_dst d USING (id)
ORDER BY s.id;
SELECT id, v FROM vector_binary_dst WHERE id < 7 ORDER BY id;

-- typmod is checked on binary input
CREATE TABLE vector_binary_typmod (id int, v vector(3));
COPY vector_binary_typmod FROM :'copy_file' WITH (FORMAT binary);
SELECT count(*) FROM vector_binary_typmod;

-- hand-made COPY files: one row of one vector field holding `field` (any bytes)
CREATE FUNCTION vector_binary_write(path text, field bytea) RETURNS void AS $$
DECLARE
    loid oid;
BEGIN
    loid := lo_from_bytea(0,
        '\x5047434f50590aff0d0a00'::bytea      -- signature
        || '\x0000000000000000'::bytea         -- flags, header extension length
        || '\x0001'::bytea                     -- one field
        || int4send(length(field)) || field
        || '\xffff'::bytea);                   -- trailer
    PERFORM lo_export(loid, path);
    PERFORM lo_unlink(loid);
END
$$ LANGUAGE plpgsql;
CREATE TABLE vector_binary_one (v vector);

-- valid: dim 2, [1,-2]
SELECT vector_binary_write(:'copy_file', '\x000200003f800000c0000000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
SELECT v FROM vector_binary_one;
-- unused must be 0
SELECT vector_binary_write(:'copy_file', '\x000100013f800000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
-- dimensions out of range
SELECT vector_binary_write(:'copy_file', '\x00000000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
SELECT vector_binary_write(:'copy_file', '\xffff0000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
SELECT vector_binary_write(:'copy_file', '\x3e810000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
-- non-finite elements
SELECT vector_binary_write(:'copy_file', '\x000200003f8000007fc00000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
SELECT vector_binary_write(:'copy_file', '\x000100007f800000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
SELECT vector_binary_write(:'copy_file', '\x00010000ff800000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
-- fewer elements than dim, and bytes left over
SELECT vector_binary_write(:'copy_file', '\x000200003f800000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
SELECT vector_binary_write(:'copy_file', '\x000100003f8000003f800000');
COPY vector_binary_one FROM :'copy_file' WITH (FORMAT binary);
-- typmod mismatch
CREATE TABLE vector_binary_two (v vector(2));
SELECT vector_binary_write(:'copy_file', '\x000100003f800000');
COPY vector_binary_two FROM :'copy_file' WITH (FORMAT binary);
SELECT count(*) FROM vector_binary_one;

DROP TABLE vector_binary_src, vector_binary_dst, vector_binary_typmod, vector_binary_one,
    vector_binary_two;
DROP FUNCTION vector_binary_write(text, bytea);
