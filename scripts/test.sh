#!/usr/bin/env bash
# Runs every test suite: C++ core unit tests and packaging checks, then pg_regress, the
# vector input fuzzer, the Node.js client test and the TAP tests against a throwaway
# cluster. Installs missing packages and the extension first. Ends with the line
#   N passed, N failed
# and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/lib/postgresql/15/bin:$PATH

scripts/install-deps.sh || exit 1
scripts/build-install.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
log_dir=$(mktemp -d /tmp/ann-test-logs.XXXXXX)

# Runs a suite that prints TAP lines ("ok N - ..." / "not ok N - ...") into log/NAME.log and
# counts them; a non-zero exit without a "not ok" counts as one failure. The whole log is
# shown when something failed (always when SHOW=all), else its last line.
run_tap_suite() {
    local name=$1
    shift
    local log="$log_dir/$name.log"
    "$@" >"$log" 2>&1
    local status=$?
    local ok not_ok
    ok=$(grep -cE '^ok ' "$log" || true)
    not_ok=$(grep -cE '^not ok ' "$log" || true)
    [ "$status" = 0 ] || [ "$not_ok" != 0 ] || not_ok=1
    if [ "$not_ok" != 0 ] || [ "${SHOW:-}" = all ]; then cat "$log"; else tail -n 1 "$log"; fi
    echo "$name: $ok passed, $not_ok failed"
    count "$ok" "$not_ok"
}

echo "== core unit tests"
make -s core-test >"$log_dir/core.log" 2>&1
core_status=$?
tail -n 3 "$log_dir/core.log"
core_passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log_dir/core.log")
core_failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log_dir/core.log")
# Tests of CPU features this machine lacks (AVX-512) skip themselves and say so.
core_skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log_dir/core.log")
skipped=$((skipped + ${core_skipped:-0}))
if [ -z "$core_passed$core_failed" ]; then
    cat "$log_dir/core.log"
    count 0 1
else
    count "${core_passed:-0}" "${core_failed:-0}"
    [ "$core_status" = 0 ] || [ -n "$core_failed" ] || count 0 1
fi

echo "== packaging (META.json, make dist)"
run_tap_suite packaging sh -c 'test/packaging/validate_meta.pl; MAKEFLAGS=-j2 test/packaging/dist_builds.sh'

export ANN_PGDATA=/tmp/ann-test-pg/data ANN_PGPORT=55434
scripts/cluster.sh stop >/dev/null 2>&1
scripts/cluster.sh start || { echo "$passed passed, $((failed + 1)) failed"; exit 1; }
eval "$(scripts/cluster.sh env)"
# Tests that count what VACUUM removed must not race an autovacuum ANALYZE whose snapshot
# keeps the deleted rows alive (index_check did, about once in six runs).
psql -X -q -d postgres -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null

echo "== pg_regress"
make -s installcheck >"$log_dir/regress.log" 2>&1
regress_status=$?
grep -E '^(ok|not ok|test |     |\s+[a-z_]+ +\.\.\.)' "$log_dir/regress.log" || true
grep -E 'tests (passed|failed)' "$log_dir/regress.log" || true
regress_total=$(ls sql/*.sql | grep -vc '/ann--')
regress_failed=$(grep -cE '(^not ok|\.\.\. FAILED|\.\.\. failed)' "$log_dir/regress.log")
if [ "$regress_status" != 0 ] && [ "$regress_failed" = 0 ]; then
    cat "$log_dir/regress.log"
    regress_failed=$regress_total
fi
[ -f regression.diffs ] && [ "$regress_failed" != 0 ] && head -n 200 regression.diffs
count $((regress_total - regress_failed)) "$regress_failed"

echo "== vector input fuzz"
run_tap_suite fuzz test/fuzz/fuzz_vector_input.pl

echo "== Node.js client (node-postgres, pgvector npm package)"
run_tap_suite client test/client/run.sh

# The whole suite under memcheck takes about 10 minutes (`make valgrind-check`); CI runs the
# tests that exercise most of the extension's code for the least time.
echo "== pg_regress under valgrind (a subset)"
ANN_VALGRIND_TESTS="vector_input vector_binary vector_functions hnsw_storage ivfflat_options index_check" \
    scripts/valgrind.sh >"$log_dir/valgrind.log" 2>&1
valgrind_summary=$(tail -n 1 "$log_dir/valgrind.log")
valgrind_passed=$(echo "$valgrind_summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
valgrind_failed=$(echo "$valgrind_summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
if [ -z "$valgrind_passed" ] || [ "$valgrind_failed" != 0 ]; then
    cat "$log_dir/valgrind.log"
else
    tail -n 3 "$log_dir/valgrind.log"
fi
count "${valgrind_passed:-0}" "${valgrind_failed:-1}"

echo "== TAP tests"
SHOW=all run_tap_suite tap test/tap/run.sh

scripts/cluster.sh stop
echo "logs: $log_dir"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
