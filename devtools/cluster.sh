#!/usr/bin/env bash
# `make cluster`: the platform on hosts in network namespaces of this machine, rehearsed
# under faults (devtools/cluster). Needs root; installs Debian's PostgreSQL, nginx and
# nftables if missing. ARGS: --short, --orders N, --no-throughput, cleanup.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"
cd "$ROOT"
source devtools/services.sh
postgres_bindir >/dev/null
exec "$VENV/bin/python" -m devtools.cluster "$@"
