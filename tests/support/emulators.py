"""Serving the provider emulators in tests and driving their admin API."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from flask import Flask

from devtools.emulators.core import BackgroundServer, Emulator, EmulatorSettings

ROOT = Path(__file__).resolve().parents[2]


class EmulatorHandle:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=f"{base_url}/_emulator", timeout=10)

    def inject(self, operation: str, kind: str, count: int = 1, **options: Any) -> None:
        body = {"operation": operation, "kind": kind, "count": count, **options}
        self.http.post("/faults", json=body).raise_for_status()

    def settings(self, **values: Any) -> None:
        self.http.post("/settings", json=values).raise_for_status()

    def reset(self) -> None:
        self.http.post("/reset").raise_for_status()

    def machines(self, *, include_destroyed: bool = False) -> list[dict[str, Any]]:
        machines: list[dict[str, Any]] = self.http.get("/machines").json()
        return [m for m in machines if include_destroyed or not m["destroyed"]]

    def calls(self) -> dict[str, int]:
        return dict(self.http.get("/calls").json())

    def snapshots(self) -> list[dict[str, Any]]:
        """Every snapshot the emulator keeps, of any machine."""
        snapshots: list[dict[str, Any]] = self.http.get("/snapshots").json()
        return snapshots


def quick_settings(rdp_port: int, ip_prefix: str, **values: Any) -> EmulatorSettings:
    """Settings for tests: machines boot in a fraction of a second and a ``timeout`` fault
    holds a request for 2 s; as by default, no 404 after a create and no rate limit.
    ``values`` override any of them."""
    settings = EmulatorSettings(
        boot_seconds=0.3,
        restart_seconds=0.2,
        ip_delay_seconds=0.1,
        timeout_seconds=2.0,
        rdp_port=rdp_port,
        ip_prefix=ip_prefix,
    )
    return dataclasses.replace(settings, **values)


class ServedEmulator:
    """An emulator app served on 127.0.0.1 in a thread (see `serving`)."""

    def __init__(self, app: Flask) -> None:
        self.state: Emulator = app.extensions["emulator"]  # to read what it received
        self.baseline = dataclasses.asdict(self.state.settings)  # before any test changes it
        self.server = BackgroundServer(app).start()
        self.url = self.server.url
        self.admin = EmulatorHandle(self.url)

    def fresh(self) -> EmulatorHandle:
        """The admin API, with the emulator emptied and the settings it was served with."""
        self.admin.reset()
        self.admin.settings(**self.baseline)
        return self.admin


@contextmanager
def serving(app: Flask) -> Iterator[ServedEmulator]:
    """Serve an emulator app for the duration of the block. On exit the emulator is emptied,
    which closes its machines' RDP listeners before another module binds the same addresses.
    """
    served = ServedEmulator(app)
    try:
        yield served
    finally:
        served.admin.http.close()
        served.server.stop()
        served.state.reset()


@contextmanager
def emulator_process(provider: str, *options: str) -> Iterator[str]:
    """``python -m devtools.emulators.<provider>`` on a free port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", f"devtools.emulators.{provider}", "--port", str(port)]
    process = subprocess.Popen(
        [*command, *options], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def first_answer(send: Callable[[], httpx.Response], timeout: float = 15.0) -> httpx.Response:
    """The first answer ``send`` gets from a server that is still starting up."""

    def answer() -> httpx.Response | None:
        try:
            return send()
        except httpx.TransportError:
            return None

    response: httpx.Response = wait_until(answer, timeout)
    return response


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll a condition (in the test process, never in a worker) until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
