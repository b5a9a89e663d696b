#!/usr/bin/env bash
# Runs the pg_regress suite (and a short vector input fuzz) against the extension built with
# sanitizers; any sanitizer report fails the run.
#   scripts/asan.sh
# ANN_SANITIZE picks them (-fsanitize=...): `undefined` by default. `address,undefined`
# needs libasan loaded before everything else in the unsanitized server (LD_PRELOAD), and
# Debian 12's postgres 15 then deadlocks at startup in glibc's bindtextdomain (with gcc 12's
# and clang 14's runtimes alike), so AddressSanitizer works only with a server that starts
# under it (for example one built from source with --enable-cassert and -fsanitize=address).
# Nothing shared is touched: the tree (tracked and untracked files) is copied to a private
# directory and built there; the sanitized ann.so goes to a private lib directory that a
# private cluster searches first (dynamic_library_path; ann.control's module_pathname is
# 'ann' so that the search applies). The cluster reads ann.control and the install script
# from the server's share directory, so `make install` of this tree must have been run.
# With AddressSanitizer, leak detection is off: a backend's memory is freed wholesale at
# exit. Reports are written under
# $ANN_ASAN_DIR/reports and printed. Ends with "N passed, N failed".
# Environment: ANN_ASAN_DIR (default /tmp/ann-asan), ANN_ASAN_PORT (55435),
# ANN_FUZZ_SECONDS (20; 0 skips the fuzz).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/usr/lib/postgresql/15/bin:$PATH
work=${ANN_ASAN_DIR:-/tmp/ann-asan}
port=${ANN_ASAN_PORT:-55435}
fuzz_seconds=${ANN_FUZZ_SECONDS:-20}
sanitizers=${ANN_SANITIZE:-undefined}
started=$(date +%s)

fail() { echo "$*" >&2; echo "0 passed, 1 failed"; exit 1; }

extension_dir=$(pg_config --sharedir)/extension
for file in "$repo/ann.control" "$repo"/sql/ann--*.sql; do
    cmp -s "$file" "$extension_dir/$(basename "$file")" ||
        fail "the installed $(basename "$file") differs from this tree: run make install first"
done

. "$repo/scripts/cluster_user.sh"

stop_cluster() {
    [ -f "$work/data/postmaster.pid" ] && as_cluster_user pg_ctl -D "$work/data" -m immediate -w stop >/dev/null 2>&1
}
stop_cluster
rm -rf "$work"
mkdir -p "$work/src" "$work/lib" "$work/reports"

echo "== copying the tree to $work/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do [ -f "$file" ] && printf '%s\0' "$file"; done |
    tar --null -T - -cf -) | tar -xf - -C "$work/src" || fail "could not copy the tree"

echo "== building with -fsanitize=$sanitizers"
sanitize="-fsanitize=$sanitizers -fno-omit-frame-pointer"
make -C "$work/src" -s -j2 ANN_EXTRA_CXXFLAGS="$sanitize" LDFLAGS_SL="$sanitize" \
    >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; fail "the sanitized build failed"; }
cp "$work/src/ann.so" "$work/lib/ann.so"
built=$(date +%s)

echo "== starting a cluster on port $port"
chown -R "$CLUSTER_USER" "$work"
chmod -R a+rX "$work"
as_cluster_user initdb -D "$work/data" -U "$CLUSTER_USER" -A trust --no-sync -E UTF8 --locale=C.UTF-8 \
    >"$work/initdb.log" 2>&1 || fail "initdb failed (see $work/initdb.log)"
cat >>"$work/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$work'
dynamic_library_path = '$work/lib:\$libdir'
shared_buffers = 128MB
maintenance_work_mem = 256MB
max_parallel_maintenance_workers = 1
fsync = off
CONF
preload=
case "$sanitizers" in *address*) preload=$(gcc -print-file-name=libasan.so) ;; esac
as_cluster_user env ${preload:+LD_PRELOAD="$preload"} \
    ASAN_OPTIONS="detect_leaks=0:log_path=$work/reports/asan:disable_coredump=1" \
    UBSAN_OPTIONS="print_stacktrace=1:log_path=$work/reports/ubsan" \
    pg_ctl -D "$work/data" -l "$work/server.log" -w start >/dev/null || fail "the server did not start (see $work/server.log)"
trap stop_cluster EXIT
export PGHOST=$work PGPORT=$port PGUSER=$CLUSTER_USER PGDATABASE=postgres

loaded=$(psql -X -q -A -t -c "LOAD 'ann'" -c "SELECT strpos(pg_read_file('/proc/self/maps'), '$work/lib/ann.so') > 0")
[ "$loaded" = t ] || fail "the server did not load $work/lib/ann.so"

passed=0
failed=0
echo "== pg_regress"
make -C "$work/src" -s installcheck >"$work/regress.log" 2>&1
regress_status=$?
grep -E '^(ok|not ok|test |\s+[a-z_]+ +\.\.\.)' "$work/regress.log"
regress_total=$(ls "$work"/src/sql/*.sql | grep -vc '/ann--')
regress_failed=$(grep -cE '(^not ok|\.\.\. FAILED|\.\.\. failed)' "$work/regress.log")
if [ "$regress_status" != 0 ] && [ "$regress_failed" = 0 ]; then
    cat "$work/regress.log"
    regress_failed=$regress_total
fi
[ "$regress_failed" != 0 ] && [ -f "$work/src/regression.diffs" ] && head -n 100 "$work/src/regression.diffs"
passed=$((passed + regress_total - regress_failed))
failed=$((failed + regress_failed))
regressed=$(date +%s)

if [ "$fuzz_seconds" != 0 ]; then
    echo "== vector input fuzz ($fuzz_seconds s)"
    fuzz_scratch=$(mktemp -d /tmp/ann-asan-fuzz.XXXXXX)
    chmod 755 "$fuzz_scratch"
    "$repo/test/fuzz/fuzz_vector_input.pl" --seconds "$fuzz_seconds" --scratch "$fuzz_scratch" >"$work/fuzz.log" 2>&1
    fuzz_status=$?
    rm -rf "$fuzz_scratch"
    cat "$work/fuzz.log"
    fuzz_passed=$(grep -cE '^ok ' "$work/fuzz.log")
    fuzz_failed=$(grep -cE '^not ok ' "$work/fuzz.log")
    [ "$fuzz_status" = 0 ] || [ "$fuzz_failed" != 0 ] || fuzz_failed=1
    passed=$((passed + fuzz_passed))
    failed=$((failed + fuzz_failed))
fi

echo "== sanitizer reports"
stop_cluster
trap - EXIT
reports=$(grep -lE 'ERROR: AddressSanitizer|runtime error:' "$work"/reports/* 2>/dev/null)
if [ -n "$reports" ]; then
    for report in $reports; do
        echo "--- $report"
        head -n 60 "$report"
    done
    failed=$((failed + 1))
else
    echo "none"
    passed=$((passed + 1))
fi
finished=$(date +%s)
echo "build $((built - started)) s, pg_regress $((regressed - built)) s, total $((finished - started)) s; files in $work"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
