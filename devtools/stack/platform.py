"""The platform's own processes: the web app under gunicorn, Celery workers by queue, beat
(one, or a second as standby: only the holder of the lock in Redis sends), Flower and the
console gateway.
Settings come from ``env``, as in production; importing this module reads none (the
platform's settings are read when `app` is first imported)."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable, Mapping

import httpx
from celery import Celery
from celery.utils.nodenames import host_format
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from devtools.stack.ports import port_open
from devtools.stack.processes import Log, Process, Supervised, python_module

_names = itertools.count(1)


def celery(*args: str) -> list[str]:
    return python_module("celery", "-A", "celery_app", *args)


class Web(Process):
    """The app under gunicorn on ``host``:``port``, with the production settings
    (gunicorn.conf.py: gthread, 2 workers x 8 threads unless ``workers`` or ``threads`` say
    otherwise); ``options`` are more of gunicorn's."""

    label = "web"

    def __init__(
        self,
        port: int,
        env: Mapping[str, str],
        log: Log = None,
        *,
        workers: int | None = None,
        threads: int | None = None,
        options: Iterable[str] = (),
        host: str = "127.0.0.1",
    ) -> None:
        self.url = f"http://{host}:{port}"
        command = python_module("gunicorn", "-c", "gunicorn.conf.py")
        command += ["--workers", str(workers)] if workers else []
        command += ["--threads", str(threads)] if threads else []
        command += ["--bind", f"{host}:{port}", *options, "wsgi:app"]
        super().__init__(command, env, log)

    def ready(self) -> bool:
        """A worker has loaded the app: it answers a path no route serves, which no rate
        limit counts."""
        try:
            httpx.get(f"{self.url}/api/nothing-here", timeout=2)
        except httpx.TransportError:
            return False
        return True


class Worker(Supervised):
    """``celery worker`` on ``queues`` (all by default) under a name of its own, started
    again with that name if it dies by itself (a broker outage can end a worker). Given
    ``celery``, `start` waits until it answers a ping."""

    label = "worker"

    def __init__(
        self,
        env: Mapping[str, str],
        log: Log = None,
        *,
        celery: Celery | None = None,
        name: str | None = None,
        queues: Iterable[str] | None = None,
        concurrency: int = 2,
        pool: str | None = None,
        loglevel: str = "INFO",
    ) -> None:
        self.celery, self.fixed_name = celery, name
        self.queues, self.concurrency = queues, concurrency
        self.pool, self.loglevel = pool, loglevel
        self.name = ""
        super().__init__([], env, log)

    def spawn(self) -> None:
        if not self.name:  # its node name, as a ping names it (%h is the host name)
            fixed = self.fixed_name and host_format(self.fixed_name)
            self.name = fixed or f"worker-{os.getpid()}-{next(_names)}@localhost"
        from app.tasking import QUEUES  # not at import: the app reads its settings then

        queues = ",".join(self.queues or QUEUES)
        options = ["-Q", queues, "-c", str(self.concurrency), "-l", self.loglevel]
        if self.pool:
            options += ["--pool", self.pool]
        self.command = celery("worker", *options, "-n", self.name)
        super().spawn()

    def start(self) -> None:
        """A fresh name each time it is started on purpose, unless it has a fixed one."""
        self.name = ""
        super().start()

    def ready(self) -> bool:
        """Whether it answers a ping; a broker connection that an outage broke counts as
        no answer yet."""
        if self.celery is None:
            return True
        try:
            return bool(self.celery.control.ping(destination=[self.name], timeout=0.5))
        except (OperationalError, RedisError):
            time.sleep(0.5)
            return False


class Beat(Supervised):
    """``celery beat`` with the platform's schedule (intervals from the environment). It
    rides out a Redis outage by itself; the supervisor only starts it again if it exits all
    the same. A second one on the same Redis is a standby."""

    label = "beat"

    def __init__(self, env: Mapping[str, str], log: Log = None, loglevel: str = "INFO") -> None:
        super().__init__(celery("beat", "-l", loglevel), env, log)


class ConsoleGateway(Process):
    """The console's WebSocket gateway (``nemordp console-gateway``) on ``port``."""

    label = "console"

    def __init__(self, port: int, env: Mapping[str, str], log: Log = None) -> None:
        self.port, self.url = port, f"ws://127.0.0.1:{port}"
        command = python_module("app.entrypoint", "console-gateway", "--bind", f"127.0.0.1:{port}")
        super().__init__(command, env, log)

    def ready(self) -> bool:
        return port_open(self.port)


class Flower(Process):
    """Flower on ``port``. It serves its own /metrics from its process, so it is not given
    the platform's multiprocess metrics directory."""

    label = "flower"

    def __init__(self, port: int, env: Mapping[str, str], log: Log = None) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        super().__init__(celery("flower", "--address=127.0.0.1", f"--port={port}"), env, log)

    def ready(self) -> bool:
        return port_open(self.port)
