#!/usr/bin/env bash
# Runs the TAP tests of the hnsw index (test/tap/*.pl, PostgreSQL::Test::Cluster) with
# `prove -v`, against the extension installed system-wide (`make install` first).
#   test/tap/run.sh [test/tap/00N_name.pl ...]     (default: every test/tap/*.pl)
# initdb refuses to run as root, so as root the tests run as the system user "annpg"
# (created here if missing, as scripts/cluster.sh does). The tests, their helper module and
# the GloVe sample are copied to a temporary directory that user owns; it is removed when
# every test passed and kept (its path is printed) otherwise.
# Environment: PG_CONFIG (default pg_config, else /usr/lib/postgresql/15/bin/pg_config),
# ANN_TAP_KEEP=1 keeps the temporary directory and the test clusters' data.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
tap_dir=$repo/test/tap

if [ -n "${PG_CONFIG:-}" ]; then
    pg_config=$PG_CONFIG
elif [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
    pg_config=/usr/lib/postgresql/15/bin/pg_config
else
    pg_config=pg_config
fi
bindir=$("$pg_config" --bindir)
pgxs_src=$(dirname "$("$pg_config" --pgxs)")/..
perl_lib=$(cd "$pgxs_src/test/perl" && pwd)
pg_regress=$(cd "$pgxs_src/test/regress" && pwd)/pg_regress

if [ ! -f "$perl_lib/PostgreSQL/Test/Cluster.pm" ]; then
    echo "PostgreSQL::Test::Cluster not found under $perl_lib (install postgresql-server-dev-15)" >&2
    exit 1
fi
if ! perl -MIPC::Run -e 1 2>/dev/null; then
    echo "perl module IPC::Run is missing (install libipc-run-perl)" >&2
    exit 1
fi
if [ ! -f "$("$pg_config" --sharedir)/extension/ann.control" ]; then
    echo "extension ann is not installed for $("$pg_config" --version): run make install first" >&2
    exit 1
fi

if [ "$#" -gt 0 ]; then
    tests=()
    for test in "$@"; do tests+=("$(basename "$test")"); done
else
    tests=()
    for test in "$tap_dir"/*.pl; do tests+=("$(basename "$test")"); done
fi

. "$repo/scripts/cluster_user.sh"
work=$(mktemp -d /tmp/ann-tap.XXXXXX)

# The tests and the data must be readable by the test user (and by the servers it starts).
mkdir -p "$work/tap"
cp "$tap_dir"/*.pl "$work/tap/"
if [ -d "$tap_dir/lib" ]; then cp -r "$tap_dir/lib" "$work/tap/lib"; fi
cp "$repo/data/glove-100d-sample.tsv.gz" "$work/glove-100d-sample.tsv.gz"
chmod -R a+rX "$work"
chown -R "$CLUSTER_USER" "$work"

keep=()
if [ -n "${ANN_TAP_KEEP:-}" ]; then keep=(PG_TEST_NOCLEAN=1); fi

status=0
(
    cd "$work/tap"
    as_cluster_user env \
        PATH="$bindir:$PATH" \
        PERL5LIB="$perl_lib${PERL5LIB:+:$PERL5LIB}" \
        PG_REGRESS="$pg_regress" \
        TESTDIR="$work/tap" \
        ANN_TAP_GLOVE="$work/glove-100d-sample.tsv.gz" \
        ${keep[@]+"${keep[@]}"} \
        prove -v "${tests[@]}"
) || status=$?

if [ "$status" = 0 ] && [ -z "${ANN_TAP_KEEP:-}" ]; then
    rm -rf "$work"
else
    echo "TAP test files, logs (tmp_check/log) and data kept in $work"
fi
exit "$status"
