# Shared by test.sh, bench.sh and soak.sh: make sure Redis and PostgreSQL answer, starting
# them (through the stack launcher, devtools/stack) if not.
# Sourced, not executed; expects ROOT (the repository) and VENV to be set.

port_open() {  # port_open HOST PORT
  "$VENV/bin/python" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

# ensure_redis: use Redis at 127.0.0.1:6379 if it answers, else a private server on port
# 6390 under var/ that the stack launcher starts and leaves running. Exports REDIS_URL.
ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then return 0; fi
  REDIS_URL=$("$VENV/bin/python" -m devtools.stack redis --db "${REDIS_DB:-0}")
  export REDIS_URL
}

# postgres_bindir: print the directory of Debian's PostgreSQL server binaries, installing
# them if missing (the fault tests and `make soak` also run private clusters with them).
postgres_bindir() {
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    echo "installing PostgreSQL (Debian package)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1
}

# ensure_postgres: use PostgreSQL at 127.0.0.1:5432 if it answers; otherwise install
# Debian's server if missing and have the stack launcher run a private cluster (trust auth)
# under var/pgdata on port 5433. Exports PG_ADMIN_URL (a libpq URL to the maintenance
# database).
ensure_postgres() {
  port_open 127.0.0.1 5432 || postgres_bindir >/dev/null
  PG_ADMIN_URL=$("$VENV/bin/python" -m devtools.stack postgres)
  export PG_ADMIN_URL
}
