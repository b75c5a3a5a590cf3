#!/usr/bin/env bash
# `make run`: the whole platform on this machine with embedded defaults — SQLite under var/,
# Redis (the system's if it answers, else an embedded one), web, worker, beat, Flower and a
# mail catcher that prints every outgoing e-mail. Ctrl-C stops everything.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"
cd "$ROOT"
export PATH="$VENV/bin:$PATH"
source devtools/services.sh

export NEMORDP_ENV=${NEMORDP_ENV:-development}
export FLASK_APP=wsgi
export WEB_PORT=${WEB_PORT:-8000} FLOWER_PORT=${FLOWER_PORT:-5555} MAIL_PORT=${MAIL_PORT:-1025}
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:$WEB_PORT}
# The provider clients talk to the local emulators; nothing else knows they are emulators.
export VULTR_EMULATOR_PORT=${VULTR_EMULATOR_PORT:-8701} CONTABO_EMULATOR_PORT=${CONTABO_EMULATOR_PORT:-8702}
export VULTR_API_URL=${VULTR_API_URL:-http://127.0.0.1:$VULTR_EMULATOR_PORT/v2}
export VULTR_API_KEY=${VULTR_API_KEY:-local-emulator-key}
export CONTABO_API_URL=${CONTABO_API_URL:-http://127.0.0.1:$CONTABO_EMULATOR_PORT/v1}
export CONTABO_AUTH_URL=${CONTABO_AUTH_URL:-http://127.0.0.1:$CONTABO_EMULATOR_PORT/auth/realms/contabo/protocol/openid-connect/token}
export CONTABO_CLIENT_ID=${CONTABO_CLIENT_ID:-local} CONTABO_CLIENT_SECRET=${CONTABO_CLIENT_SECRET:-local}
export CONTABO_API_USER=${CONTABO_API_USER:-local@nemordp.local} CONTABO_API_PASSWORD=${CONTABO_API_PASSWORD:-local}
export STATUS_CHECK_INTERVAL=${STATUS_CHECK_INTERVAL:-2} FIRST_CHECK_DELAY=${FIRST_CHECK_DELAY:-15}
# Traffic is read every minute (not every 15), so a new machine's usage chart fills quickly.
export USAGE_POLL_INTERVAL=${USAGE_POLL_INTERVAL:-60}
# Billing runs against the local Stripe server, which delivers signed webhooks to us.
export STRIPE_PORT=${STRIPE_PORT:-8420}
export STRIPE_API_BASE=${STRIPE_API_BASE:-http://127.0.0.1:$STRIPE_PORT}
export STRIPE_SECRET_KEY=${STRIPE_SECRET_KEY:-sk_test_local}
# The webhook secret is this machine's own, made once under var/ by config.py; the local
# Stripe server (Procfile) signs with it.
STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK_SECRET:-$(python -c 'from config import config_for; print(config_for().STRIPE_WEBHOOK_SECRET)')}
export STRIPE_WEBHOOK_SECRET
mkdir -p var
cp Procfile var/Procfile.run
# Web and worker processes write their metrics here; /metrics adds them up. Emptied at each
# start, as prometheus_client requires (Flower keeps its own metrics: see the Procfile).
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$ROOT/var/run/prometheus}
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

# Redis: use one that answers, else run the embedded server in the foreground with the rest.
if [ -z "${REDIS_URL:-}" ]; then
  if port_open 127.0.0.1 6379; then
    export REDIS_URL=redis://127.0.0.1:6379/0
  else
    mkdir -p var/redis
    export REDIS_URL=redis://127.0.0.1:6390/0
    echo "redis: redis-server --bind 127.0.0.1 --port 6390 --save '' --appendonly no --dir var/redis" \
      >> var/Procfile.run
  fi
fi

flask db upgrade
flask catalog load
# Products and prices must exist at Stripe before anything can be ordered: start the local
# Stripe just long enough to sync them (its state is kept under var/stripe).
python -m devtools.stripe_server --port "$STRIPE_PORT" --state-dir var/stripe >var/stripe-sync.log 2>&1 &
STRIPE_PID=$!
wait_for_port 127.0.0.1 "$STRIPE_PORT" "the local Stripe"
flask billing sync-catalog
kill "$STRIPE_PID" && wait "$STRIPE_PID" 2>/dev/null || true

cat <<TXT

NemoRDP is starting:
  dashboard and API  http://127.0.0.1:$WEB_PORT/   (API under /api, spec at /api/openapi.json)
  health             http://127.0.0.1:$WEB_PORT/api/health
  metrics            http://127.0.0.1:$WEB_PORT/metrics
  Flower (queues)    http://127.0.0.1:$FLOWER_PORT/
  provider emulators Vultr $VULTR_API_URL, Contabo $CONTABO_API_URL
  local Stripe       $STRIPE_API_BASE (payment pages: pay with the Visa test card)
  outgoing e-mail    printed below by the "mail" process
  Redis              $REDIS_URL
Press Ctrl-C to stop everything.

TXT
exec honcho start -f var/Procfile.run -d "$ROOT"
