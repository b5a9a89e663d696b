-- What psql's describe commands show for the extension's objects.
\dx ann
\dT vector
\do public.*
\dAc hnsw vector
\dAc ivfflat vector
CREATE TABLE described (id int PRIMARY KEY, embedding vector(3));
CREATE INDEX described_hnsw ON described USING hnsw (embedding vector_cosine_ops) WITH (m = 8);
CREATE INDEX described_ivfflat ON described USING ivfflat (embedding vector_l2_ops) WITH (lists = 4);
\d described
\d described_hnsw
DROP TABLE described;
