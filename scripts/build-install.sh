#!/usr/bin/env bash
# Builds the extension and installs it into the PostgreSQL 15 found by pg_config.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/lib/postgresql/15/bin:$PATH
make -s -j"$(nproc)"
if [ -w "$(pg_config --pkglibdir)" ]; then
    make -s install
else
    sudo make -s install
fi
