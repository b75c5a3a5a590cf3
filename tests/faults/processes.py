"""Platform processes the fault tests and the soak can kill: Celery workers, beat, the web
app, each in its own process group so a SIGKILL takes the whole of it, as when a machine
dies."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import httpx
from celery import Celery
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from app.tasking import QUEUES

ROOT = Path(__file__).resolve().parents[2]
_names = itertools.count(1)


class Process:
    """A command run in its own session (process group), logging to ``log``."""

    def __init__(self, command: list[str], env: Mapping[str, str], log: IO[bytes]) -> None:
        self.command, self.env, self.log = command, dict(env), log
        self.popen: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        self.popen = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and every child it forked: nothing gets to clean up."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=20)
        self.popen = None

    def stop(self) -> None:
        """Ask politely (SIGTERM), then kill whatever is left of the group."""
        if self.popen is None:
            return
        self.popen.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=20)
        self.kill()


class Supervised(Process):
    """A process run as a supervisor (systemd's ``Restart=always``) runs it: started again
    whenever it exits, until it is killed on purpose."""

    def __init__(self, command: list[str], env: Mapping[str, str], log: IO[bytes]) -> None:
        super().__init__(command, env, log)
        self.restarts = 0
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def start(self) -> None:
        """Spawn the process and keep it running, until ``kill``."""
        self.stop_supervising()
        self.stopped = threading.Event()
        self.spawn()
        args = (self.stopped,)
        threading.Thread(target=self._supervise, args=args, name="supervisor", daemon=True).start()

    def _supervise(self, stopped: threading.Event) -> None:
        while not stopped.wait(1):
            with self.lock:
                if not stopped.is_set() and self.popen is not None and not self.running:
                    self.restarts += 1
                    self.spawn()

    def stop_supervising(self) -> None:
        with self.lock:
            self.stopped.set()

    def kill(self) -> None:
        self.stop_supervising()
        super().kill()


class Worker(Supervised):
    """``celery worker`` consuming every queue, under a name of its own; started again
    with that name if it dies by itself (a broker outage can end a worker)."""

    def __init__(
        self, celery: Celery, env: Mapping[str, str], log: IO[bytes], concurrency: int = 2
    ) -> None:
        self.celery = celery
        self.name = ""
        self.concurrency = concurrency
        super().__init__([], env, log)

    def start(self, timeout: float = 60) -> None:
        self.name = f"faults-{os.getpid()}-{next(_names)}@localhost"
        self.command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "celery_app",
            "worker",
            "-Q",
            ",".join(QUEUES),
            "-c",
            str(self.concurrency),
            "-l",
            "INFO",
            "-n",
            self.name,
        ]
        super().start()
        deadline = time.monotonic() + timeout
        while not self._answers_ping():
            if not self.running or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the worker {self.name} did not start; see its log")

    def _answers_ping(self) -> bool:
        """Whether the worker answers; a broker connection that an outage broke counts
        as no answer yet."""
        try:
            return bool(self.celery.control.ping(destination=[self.name], timeout=0.5))
        except (OperationalError, RedisError):
            time.sleep(0.5)
            return False


class Beat(Supervised):
    """``celery beat`` with the platform's schedule (intervals from the environment).
    It rides out a Redis outage by itself; the supervisor only starts it again if it
    exits all the same."""

    def __init__(self, env: Mapping[str, str], log: IO[bytes]) -> None:
        command = [sys.executable, "-m", "celery", "-A", "celery_app", "beat", "-l", "INFO"]
        super().__init__(command, env, log)


class Web(Process):
    """The app under gunicorn on ``port``."""

    def __init__(self, port: int, env: Mapping[str, str], log: IO[bytes]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ]
        super().__init__(command, env, log)

    def start(self, timeout: float = 60) -> None:
        self.spawn()
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(f"{self.url}/api/plans", timeout=2)
                return
            except httpx.TransportError:
                if not self.running or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError("the web app did not start; see its log") from None
                time.sleep(0.2)
