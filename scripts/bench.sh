#!/usr/bin/env bash
# The benchmark command: installs what it needs, builds bench/ann_bench and runs it with
# these arguments against a running cluster that has the extension installed (`make install`).
# The connection comes from --dsn or the PG* environment variables; for the throwaway cluster
# run `scripts/cluster.sh start` and `eval "$(scripts/cluster.sh env)"` first.
#   scripts/bench.sh glove-100-angular --m 16 --ef-construction 64 --ef-search 10,40,100
#   scripts/bench.sh plot --out compare.png run1.json run2.json
#   scripts/bench.sh --help
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/usr/lib/postgresql/15/bin:$PATH
# Dataset names resolve under the shared data folder beside the repository, whatever the
# caller's directory (dataset paths are taken as given).
export ANN_BENCH_DATA_ROOT=${ANN_BENCH_DATA_ROOT:-$root/../shared/data}

"$root/scripts/install-deps.sh"
make -s -C "$root" bench-tool
exec "$root/bench/ann_bench" "$@"
