#!/usr/bin/env bash
# `make soak`: tests/faults/soak.py on its own PostgreSQL cluster, Redis, local Stripe and
# emulators (nothing shared is touched), for SOAK_MINUTES minutes (default 10).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"
cd "$ROOT"
source devtools/services.sh
postgres_bindir >/dev/null
exec "$VENV/bin/python" -m tests.faults.soak --minutes "${SOAK_MINUTES:-10}" "$@"
