# Sourced by every script that runs a PostgreSQL server: initdb and postgres refuse to run
# as root, so as root the servers belong to the system user "annpg", created on first use.
# Sets CLUSTER_USER and defines `as_cluster_user COMMAND...`.
if [ "$(id -u)" = 0 ]; then
    id annpg >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash annpg
    CLUSTER_USER=annpg
    as_cluster_user() { runuser -u annpg -- "$@"; }
else
    CLUSTER_USER=$(id -un)
    as_cluster_user() { "$@"; }
fi
