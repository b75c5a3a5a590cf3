"""Exactly one scheduler: two real `celery beat` processes share the schedule and a lock
in Redis; only the lock holder fires, each slot once, and the other takes over when the
holder dies."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from devtools.stack.platform import Beat as BeatProcess
from tests.support.emulators import wait_until

SENT = "Sending due task stop-idle (periodic.stop_idle)"
INTERVAL = 1  # seconds between two firings of the test's entry
WATCH = 6  # seconds both schedulers run side by side


class Beat(BeatProcess):
    """``celery beat`` started at once, its output in ``log``, which tells what it sent."""

    def __init__(self, log: Path, env: dict[str, str]) -> None:
        self.log_path = log
        super().__init__(env, log.open("wb"))
        self.start()

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sends(self) -> int:
        return self.text().count(SENT)


@pytest.fixture()
def beat_env(app: Flask) -> Iterator[dict[str, str]]:
    """Settings for the beat processes: a private key prefix, a 1 s entry, a short lock."""
    prefix = f"nemordp:beat-test:{uuid.uuid4().hex[:8]}"
    yield {
        **os.environ,
        "BEAT_KEY_PREFIX": prefix,
        "BEAT_LOCK_TIMEOUT": "3",
        "BEAT_MAX_LOOP_INTERVAL": "1",
        "IDLE_CHECK_INTERVAL": str(INTERVAL),
    }
    client = redis.Redis.from_url(app.config["CELERY_BROKER_URL"])
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_two_beat_processes_fire_each_slot_once_and_the_standby_takes_over(
    tmp_path: Path, beat_env: dict[str, str]
) -> None:
    first = Beat(tmp_path / "beat-1.log", beat_env)
    wait_until(lambda: first.sends() > 0, timeout=30)  # the first holds the lock
    second = Beat(tmp_path / "beat-2.log", beat_env)
    try:
        wait_until(lambda: "beat: Starting" in second.text(), timeout=30)
        before = first.sends()
        time.sleep(WATCH)  # both run; only the lock holder may fire

        fired = first.sends() - before
        assert second.sends() == 0, second.text()
        assert 1 <= fired <= WATCH // INTERVAL + 1, first.text()

        first.stop()  # the holder dies; its lock expires and the standby takes over
        wait_until(lambda: second.sends() >= 2, timeout=30)
    finally:
        first.stop()
        second.stop()
