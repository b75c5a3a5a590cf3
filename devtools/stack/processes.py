"""A process of the stack: a command run in a session (process group) of its own, so that a
stop or a SIGKILL reaches every child it forked, as when a machine dies. Its output goes to
a log file, or, with no log, to this terminal with the process's name before each line."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from devtools.stack.ports import wait_until

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# A log file, subprocess.DEVNULL, or None: this terminal, each line prefixed.
Log = IO[bytes] | int | None

_console = threading.Lock()


def python_module(module: str, *args: str) -> list[str]:
    """``python -m module args`` of this same environment."""
    return [PYTHON, "-m", module, *args]


def _relay(label: str, stream: IO[bytes]) -> None:
    for line in stream:
        with _console:
            sys.stdout.write(f"{label:<8}| {line.decode(errors='replace')}")
            sys.stdout.flush()


class Process:
    """``command`` run from the repository with ``env``. `start` spawns it and waits until
    `ready`; `stop` asks it to end (SIGTERM) and kills what is left of its group."""

    label = "process"
    ready_timeout = 60.0

    def __init__(self, command: list[str], env: Mapping[str, str], log: Log = None) -> None:
        self.command, self.env, self.log = command, dict(env), log
        self.popen: subprocess.Popen[bytes] | None = None
        # Run before the command, which it execs: ``ip netns exec <namespace>`` runs it on
        # another host of a cluster (devtools/cluster).
        self.prefix: list[str] = []

    def spawn(self) -> None:
        """Start the command and return at once."""
        self.popen = subprocess.Popen(
            [*self.prefix, *self.command],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE if self.log is None else self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.log is None:
            assert self.popen.stdout is not None
            args = (self.label, self.popen.stdout)
            threading.Thread(target=_relay, args=args, name=self.label, daemon=True).start()

    def start(self) -> None:
        """Spawn the command and wait until it is `ready`."""
        self.spawn()
        self.wait_ready()

    def wait_ready(self) -> None:
        if not wait_until(lambda: not self.running or self.ready(), self.ready_timeout):
            self.kill()
            raise RuntimeError(f"{self.label} did not start within {self.ready_timeout:g} s")
        if not self.running:
            self.kill()
            raise RuntimeError(f"{self.label} exited as it started; see its log")

    def ready(self) -> bool:
        """Whether it serves yet; a subclass knows how to tell."""
        return True

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.label} was never started"
        return self.popen.pid

    def terminate(self) -> None:
        """Ask it to end (SIGTERM to the command, which stops its own children)."""
        if self.running:
            assert self.popen is not None
            self.popen.terminate()

    def kill(self) -> None:
        """SIGKILL the process and every child it forked: nothing gets to clean up."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=20)
        self.popen = None

    def stop(self, timeout: float = 20) -> None:
        """Ask politely (SIGTERM), then kill whatever is left of the group."""
        if self.popen is None:
            return
        self.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=timeout)
        self.kill()


class Supervised(Process):
    """A process run as a supervisor (systemd's ``Restart=always``) runs it: started again
    whenever it exits, until it is stopped or killed on purpose."""

    def __init__(self, command: list[str], env: Mapping[str, str], log: Log = None) -> None:
        super().__init__(command, env, log)
        self.restarts = 0
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def start(self) -> None:
        """Spawn the process and keep it running, until `stop` or `kill`."""
        self.stop_supervising()
        self.stopped = threading.Event()
        self.spawn()
        args = (self.stopped,)
        threading.Thread(target=self._supervise, args=args, name="supervisor", daemon=True).start()
        self.wait_ready()

    def _supervise(self, stopped: threading.Event) -> None:
        while not stopped.wait(1):
            with self.lock:
                if not stopped.is_set() and self.popen is not None and not self.running:
                    self.restarts += 1
                    self.spawn()

    def stop_supervising(self) -> None:
        with self.lock:
            self.stopped.set()

    def terminate(self) -> None:
        self.stop_supervising()
        super().terminate()

    def kill(self) -> None:
        self.stop_supervising()
        super().kill()
