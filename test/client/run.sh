#!/usr/bin/env bash
# Runs the Node.js client test (pgvector_client_test.js) against a running server with the
# extension installed, through the libpq environment (PGHOST, PGPORT, PGUSER; PGDATABASE
# names the database it connects to first, default postgres). Prints TAP and exits non-zero
# on any failure.
# The pinned packages (package-lock.json) are installed into test/client/node_modules on
# the first run and whenever the lock file changes; later runs do not touch the network.
# An install that fails (registry unreachable) is a test failure, not a skip.
set -uo pipefail
cd "$(dirname "$0")"

install_stamp=node_modules/.ann-installed-from
wanted=$(sha256sum package.json package-lock.json)

fail_setup() {
    echo "not ok 1 - $1"
    shift
    for line in "$@"; do echo "# $line"; done
    echo "1..1"
    exit 1
}

command -v node >/dev/null && command -v npm >/dev/null \
    || fail_setup "node and npm are installed" "run scripts/install-deps.sh"

if [ "$(cat "$install_stamp" 2>/dev/null)" != "$wanted" ]; then
    log=$(mktemp)
    # npm's own retries can wait minutes for an unreachable registry: give up sooner.
    if ! timeout 180 npm ci --no-audit --no-fund --fetch-timeout=30000 --fetch-retries=1 >"$log" 2>&1; then
        mapfile -t output < <(tail -n 15 "$log")
        rm -f "$log"
        fail_setup "npm installs pg and pgvector (is the npm registry reachable?)" "${output[@]}"
    fi
    rm -f "$log"
    echo "$wanted" >"$install_stamp"
fi

export PGDATABASE=${PGDATABASE:-postgres}
exec node pgvector_client_test.js
