#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the demo and the tests.
#   scripts/cluster.sh start|stop|status|env
# Settings (environment): ANN_PGDATA (default /tmp/ann-pg/data), ANN_PGPORT (55433).
# initdb refuses to run as root, so as root the cluster belongs to the user "annpg",
# created on first use. `eval "$(scripts/cluster.sh env)"` points psql at the cluster.
set -euo pipefail

ANN_PGDATA=${ANN_PGDATA:-/tmp/ann-pg/data}
ANN_PGPORT=${ANN_PGPORT:-55433}
PGBIN=$(pg_config --bindir)
SOCKET_DIR=$(dirname "$ANN_PGDATA")

. "$(dirname "$0")/cluster_user.sh"

print_env() {
    echo "export PGHOST=$SOCKET_DIR PGPORT=$ANN_PGPORT PGUSER=$CLUSTER_USER PGDATABASE=postgres"
}

start() {
    mkdir -p "$SOCKET_DIR"
    chown "$CLUSTER_USER" "$SOCKET_DIR"
    if [ ! -f "$ANN_PGDATA/PG_VERSION" ]; then
        as_cluster_user "$PGBIN/initdb" -D "$ANN_PGDATA" -U "$CLUSTER_USER" -A trust \
            --no-sync -E UTF8 --locale=C.UTF-8 >"$SOCKET_DIR/initdb.log"
        cat >>"$ANN_PGDATA/postgresql.conf" <<CONF
listen_addresses = 'localhost'
port = $ANN_PGPORT
unix_socket_directories = '$SOCKET_DIR'
shared_buffers = 256MB
maintenance_work_mem = 512MB
max_parallel_maintenance_workers = 1
fsync = off
CONF
    fi
    as_cluster_user "$PGBIN/pg_ctl" -D "$ANN_PGDATA" -l "$SOCKET_DIR/server.log" -w start >/dev/null
    echo "cluster running: $(print_env)"
}

stop() {
    if [ -f "$ANN_PGDATA/postmaster.pid" ]; then
        as_cluster_user "$PGBIN/pg_ctl" -D "$ANN_PGDATA" -m fast -w stop >/dev/null
    fi
    rm -rf "$SOCKET_DIR"
    echo "cluster stopped and removed"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) as_cluster_user "$PGBIN/pg_ctl" -D "$ANN_PGDATA" status ;;
    env) print_env ;;
    *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
