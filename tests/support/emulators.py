"""Driving the provider emulators' admin API from tests."""

from __future__ import annotations

import time
from typing import Any

import httpx


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


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll a condition (in the test process, never in a worker) until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
