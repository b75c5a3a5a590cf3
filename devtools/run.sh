#!/usr/bin/env bash
# `make run`: the whole platform on this machine, started by the stack launcher
# (devtools/stack/run.py lists what runs and its settings). Ctrl-C stops everything.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m devtools.stack run "$@"
