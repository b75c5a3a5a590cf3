#!/usr/bin/env bash
# `make bench-*`: run one benchmark against PostgreSQL and Redis (started here when absent).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"
cd "$ROOT"
source devtools/services.sh

export REDIS_DB=${REDIS_DB:-15}  # apart from the test suite's (test.sh: 9)
ensure_redis
ensure_postgres
export DATABASE_URL=${DATABASE_URL:-${PG_ADMIN_URL%/postgres}/nemordp_bench}
export DATABASE_URL=${DATABASE_URL/postgresql:/postgresql+psycopg:}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
exec "$VENV/bin/python" "$@"
