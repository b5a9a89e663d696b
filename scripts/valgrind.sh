#!/usr/bin/env bash
# Runs the pg_regress suite against a private cluster whose server runs under valgrind's
# memcheck (about 10 minutes on 2 cores), and fails on any report of the extension's
# (ann.so): invalid reads and writes, uses of uninitialised values, invalid frees.
# Reports that stay inside PostgreSQL itself (it writes padding bytes to WAL and files on
# purpose) are counted but do not fail the run. AddressSanitizer would be faster, but Debian's postgres cannot
# start under it (see scripts/asan.sh).
#   scripts/valgrind.sh            (after `make install` of this tree)
# Environment: ANN_VALGRIND_DIR (default /tmp/ann-valgrind), ANN_VALGRIND_PORT (55436),
# ANN_VALGRIND_TESTS (pg_regress test names; default every sql/*.sql).
# Ends with "N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/usr/lib/postgresql/15/bin:$PATH
work=${ANN_VALGRIND_DIR:-/tmp/ann-valgrind}
port=${ANN_VALGRIND_PORT:-55436}
started=$(date +%s)

fail() { echo "$*" >&2; echo "0 passed, 1 failed"; exit 1; }
command -v valgrind >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null ||
    fail "valgrind is missing and could not be installed"

. "$repo/scripts/cluster_user.sh"

stop_cluster() {
    [ -f "$work/data/postmaster.pid" ] && as_cluster_user pg_ctl -D "$work/data" -m fast -w -t 600 stop >/dev/null 2>&1
}
stop_cluster
rm -rf "$work"
mkdir -p "$work/reports"
chown -R "$CLUSTER_USER" "$work"

as_cluster_user initdb -D "$work/data" -U "$CLUSTER_USER" -A trust --no-sync -E UTF8 --locale=C.UTF-8 \
    >"$work/initdb.log" 2>&1 || fail "initdb failed (see $work/initdb.log)"
cat >>"$work/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$work'
shared_buffers = 128MB
maintenance_work_mem = 256MB
max_parallel_maintenance_workers = 0
max_parallel_workers_per_gather = 0
autovacuum = off
fsync = off
jit = off
CONF
# Backends are forked, not executed, so memcheck follows them without --trace-children.
as_cluster_user sh -c "valgrind --quiet --tool=memcheck --leak-check=no --track-origins=yes \
    --read-var-info=no --num-callers=30 --log-file='$work/reports/memcheck.%p' \
    postgres -D '$work/data' >'$work/server.log' 2>&1 &"
for _ in $(seq 1 240); do
    pg_isready -q -h "$work" -p "$port" && break
    sleep 1
done
pg_isready -q -h "$work" -p "$port" || fail "the server did not start under valgrind (see $work/server.log)"
trap stop_cluster EXIT
export PGHOST=$work PGPORT=$port PGUSER=$CLUSTER_USER PGDATABASE=postgres

echo "== pg_regress under valgrind"
tests=${ANN_VALGRIND_TESTS:-$(cd "$repo/sql" && ls *.sql | grep -v '^ann--' | sed 's/\.sql$//' | tr '\n' ' ')}
make -C "$repo" -s installcheck REGRESS="$tests" >"$work/regress.log" 2>&1
regress_status=$?
grep -E '^(ok|not ok|test |\s+[a-z_]+ +\.\.\.)' "$work/regress.log"
total=$(echo $tests | wc -w)
regress_failed=$(grep -cE '(^not ok|\.\.\. FAILED|\.\.\. failed)' "$work/regress.log")
[ "$regress_status" = 0 ] || [ "$regress_failed" != 0 ] || regress_failed=$total
passed=$((total - regress_failed))
failed=$regress_failed
regressed=$(date +%s)

stop_cluster
trap - EXIT
echo "== memcheck reports"
ours=0
others=0
for report in "$work"/reports/memcheck.*; do
    [ -s "$report" ] || continue
    # One error per block of lines starting at "==PID== <kind>". An error is the extension's
    # when its stack passes through ann.so, except that for uninitialised bytes handed to a
    # system call (PostgreSQL writing WAL or pages) only where the bytes came from counts:
    # our call may merely be what flushed another record's padding. Our ExecutorStart hook
    # runs PostgreSQL's own executor start, so that frame alone does not make an error ours.
    blocks=$(awk '/^==[0-9]+== [A-Z]/ { if (b != "") print b "\n"; b = $0; next } { b = b "\n" $0 } END { if (b != "") print b }' "$report" |
        awk 'BEGIN { RS = ""; ORS = "\n\n" }
             /Syscall param/ { origin = $0; sub(/^.*was created by/, "", origin); if (origin ~ /ann\.so|ann::/) print; next }
             { stack = $0; gsub(/[^\n]*executor_start\(QueryDesc\*, int\)[^\n]*/, "", stack); if (stack ~ /ann\.so|ann::/) print }')
    if [ -n "$blocks" ]; then
        echo "--- $report"
        echo "$blocks" | head -n 80
        ours=$((ours + 1))
    else
        others=$((others + 1))
    fi
done
echo "$ours backend(s) with errors in the extension; $others with errors only inside PostgreSQL"
if [ "$ours" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
finished=$(date +%s)
echo "pg_regress $((regressed - started)) s, total $((finished - started)) s; reports in $work/reports"
echo "$passed passed, $failed failed"
