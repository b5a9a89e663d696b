#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and the demo need, when missing.
set -euo pipefail

PACKAGES=(
    postgresql-15 postgresql-server-dev-15 postgresql-client-15
    g++ make libgtest-dev libbenchmark-dev
    libipc-run-perl
    gzip
    libpq-dev nlohmann-json3-dev gnuplot-nox
    valgrind
)
# The client test (test/client) needs node and npm. A Node.js from elsewhere is used as it
# is: NodeSource's package bundles npm and conflicts with Debian's npm package.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    PACKAGES+=(nodejs npm)
fi

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "missing packages: ${missing[*]}; run this script as root to install them" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
