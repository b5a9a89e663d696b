#!/usr/bin/env bash
# Makes the release tarball (`make dist`), unpacks it into a temporary directory and builds
# it there alone: `make`, then `make install` into a staging root (DESTDIR), so nothing
# outside the temporary directory changes. Passes when the library and the install script
# of the version in ann.control end up in the staging root. Prints TAP.
# Environment: PG_CONFIG (default pg_config), MAKEFLAGS (e.g. -j2).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
pg_config=${PG_CONFIG:-pg_config}
version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$repo/ann.control")
tarball=ann-$version.tar.gz
work=$(mktemp -d /tmp/ann-dist.XXXXXX)
log=$work/log
test_number=0
failed=0

check() {
    local description=$1
    shift
    test_number=$((test_number + 1))
    if "$@" >>"$log" 2>&1; then
        echo "ok $test_number - $description"
    else
        failed=$((failed + 1))
        echo "not ok $test_number - $description"
        tail -n 30 "$log" | sed 's/^/# /'
    fi
}

check "make dist writes $tarball" make -s -C "$repo" dist PG_CONFIG="$pg_config"
check "$tarball unpacks into ann-$version/" tar -xzf "$repo/$tarball" -C "$work"
check "make builds the unpacked sources alone" make -s -C "$work/ann-$version" PG_CONFIG="$pg_config"
check "make install puts the files in a staging root" \
    make -s -C "$work/ann-$version" install PG_CONFIG="$pg_config" DESTDIR="$work/root"
check "the staging root holds ann.so, ann.control and ann--$version.sql" \
    test -f "$work/root$("$pg_config" --pkglibdir)/ann.so" \
    -a -f "$work/root$("$pg_config" --sharedir)/extension/ann.control" \
    -a -f "$work/root$("$pg_config" --sharedir)/extension/ann--$version.sql"

echo "1..$test_number"
if [ "$failed" = 0 ]; then
    rm -rf "$work"
else
    echo "# build log and unpacked sources kept in $work"
fi
[ "$failed" = 0 ]
