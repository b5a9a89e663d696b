#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing, builds and installs
# ann, starts a throwaway cluster, loads 12,000 GloVe word vectors, indexes them with hnsw
# and runs semantic searches.
# The cluster keeps running afterwards; `scripts/cluster.sh stop` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/lib/postgresql/15/bin:$PATH

scripts/install-deps.sh
scripts/build-install.sh
scripts/cluster.sh start
eval "$(scripts/cluster.sh env)"

psql -v ON_ERROR_STOP=1 -q <<'SQL'
DROP DATABASE IF EXISTS ann_demo;
CREATE DATABASE ann_demo;
\c ann_demo
CREATE EXTENSION ann;
CREATE TABLE words (id bigserial PRIMARY KEY, word text NOT NULL UNIQUE, embedding vector(100));
\copy words (word, embedding) FROM PROGRAM 'gzip -dc data/glove-100d-sample.tsv.gz'
CREATE INDEX words_embedding_idx ON words USING hnsw (embedding vector_cosine_ops);
ANALYZE words;

\echo
\echo 'Words nearest to "king" (cosine distance), through the hnsw index:'
SELECT word, round((embedding <=> (SELECT embedding FROM words WHERE word = 'king'))::numeric, 4) AS distance
FROM words
WHERE word <> 'king'
ORDER BY embedding <=> (SELECT embedding FROM words WHERE word = 'king')
LIMIT 10;

EXPLAIN (COSTS OFF)
SELECT word FROM words ORDER BY embedding <=> (SELECT embedding FROM words WHERE word = 'king') LIMIT 10;

\echo 'king - man + woman is nearest to:'
SELECT word
FROM words
WHERE word NOT IN ('king', 'man', 'woman')
ORDER BY embedding <=> (SELECT (SELECT embedding FROM words WHERE word = 'king')
                             - (SELECT embedding FROM words WHERE word = 'man')
                             + (SELECT embedding FROM words WHERE word = 'woman'))
LIMIT 5;
SQL

echo
echo "The demo database ann_demo stays up. Connect with:"
echo "  eval \"\$(scripts/cluster.sh env)\" && psql ann_demo"
echo "Stop and remove the cluster with: scripts/cluster.sh stop"
