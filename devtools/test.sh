#!/usr/bin/env bash
# `make test`: lint, then pytest against PostgreSQL and Redis (started here when absent).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"
cd "$ROOT"
source devtools/services.sh

export REDIS_DB=${REDIS_DB:-9}
ensure_redis
ensure_postgres
postgres_bindir >/dev/null  # tests/faults runs private clusters
# The browser tests drive Debian's Chromium through Playwright (never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The console tests log on to Debian's xrdp, started by tests/console on a loopback address.
if [ ! -x /usr/sbin/xrdp ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xrdp >/dev/null
fi
export NEMORDP_ENV=test
export DATABASE_URL=${DATABASE_URL:-${PG_ADMIN_URL%/postgres}/nemordp_test}
export DATABASE_URL=${DATABASE_URL/postgresql:/postgresql+psycopg:}

echo "lint: ruff and mypy"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"

echo "tests: database $DATABASE_URL, redis $REDIS_URL"
exec "$VENV/bin/pytest" "$@"
