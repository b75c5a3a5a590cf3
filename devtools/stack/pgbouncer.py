"""PgBouncer (Debian's) in front of a PostgreSQL, on a loopback port of our choosing, in the
pooling mode production uses for many hosts: transaction mode."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from devtools.stack.ports import port_open
from devtools.stack.processes import Log, Process
from devtools.stack.services import _as_postgres

PGBOUNCER = "/usr/sbin/pgbouncer"


class PgBouncer(Process):
    """PgBouncer on ``port`` pooling ``database`` of the PostgreSQL at ``server_port``, with
    ``pool_size`` server connections in ``pool_mode``; every client is trusted. Its
    configuration lives in ``directory``, which the postgres user must be able to reach
    when run as root (PgBouncer refuses root); ``url`` is the SQLAlchemy URL through it."""

    label = "pgbouncer"
    ready_timeout = 20.0

    def __init__(
        self,
        directory: Path,
        port: int,
        server_port: int,
        database: str,
        log: Log = None,
        *,
        pool_size: int = 1,
        pool_mode: str = "transaction",
    ) -> None:
        if not Path(PGBOUNCER).exists():
            raise RuntimeError(f"no {PGBOUNCER}: apt-get install pgbouncer")
        self.directory, self.port = directory, port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
        self.settings = "\n".join(
            [
                "[databases]",
                f"{database} = host=127.0.0.1 port={server_port} dbname={database}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                f"unix_socket_dir = {directory}",
                "auth_type = trust",
                f"auth_file = {directory / 'users.txt'}",
                f"pool_mode = {pool_mode}",
                f"default_pool_size = {pool_size}",
                "max_client_conn = 100",
                "",
            ]
        )
        command = [*_as_postgres(), PGBOUNCER, str(directory / "pgbouncer.ini")]
        super().__init__(command, os.environ, log)

    def spawn(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "pgbouncer.ini").write_text(self.settings)
        (self.directory / "users.txt").write_text('"postgres" ""\n')
        if os.geteuid() == 0:
            for path in (self.directory, *self.directory.iterdir()):
                shutil.chown(path, "postgres")
        super().spawn()

    def ready(self) -> bool:
        return port_open(self.port)
