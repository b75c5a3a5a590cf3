"""/metrics under real gunicorn with several workers, one of them killed on the way."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from devtools.stack.platform import Web
from devtools.stack.ports import free_port
from tests.monitoring.scrape import parse, value
from tests.support.emulators import wait_until

WORKERS = 3
REQUESTS = 30


class Gunicorn(Web):
    """The app under gunicorn with several workers, its metrics files in ``metrics_dir``."""

    def __init__(self, metrics_dir: Path) -> None:
        self.metrics_dir = metrics_dir
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        super().__init__(free_port(), env, subprocess.DEVNULL, workers=WORKERS)

    def worker_pids(self) -> set[int]:
        return {child.pid for child in psutil.Process(self.pid).children()}

    def live_gauge_pids(self) -> set[int]:
        return {int(path.stem.rsplit("_", 1)[1]) for path in self.metrics_dir.glob("gauge_live*")}

    def scrape(self) -> dict:
        return parse(httpx.get(f"{self.url}/metrics", timeout=10).text)


@pytest.fixture()
def gunicorn(tmp_path: Path, app: object) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path)
    server.start()
    # Every worker has imported the app (and so written its live gauge file) once all are up.
    wait_until(lambda: len(server.live_gauge_pids() & server.worker_pids()) == WORKERS, 30)
    yield server
    server.stop()


def test_requests_served_by_several_workers_add_up_and_survive_a_dead_worker(
    gunicorn: Gunicorn,
) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(
            pool.map(
                lambda _: httpx.get(f"{gunicorn.url}/api/support/faq", timeout=10).status_code,
                range(REQUESTS),
            )
        )
    assert statuses == [200] * REQUESTS
    labels = {"method": "GET", "route": "/api/support/faq", "status": "200"}
    assert value(gunicorn.scrape(), "nemordp_http_requests_total", **labels) == REQUESTS

    victim = min(gunicorn.worker_pids())
    os.kill(victim, signal.SIGKILL)
    # The master's child_exit hook removes the dead worker's live gauge...
    wait_until(lambda: victim not in gunicorn.live_gauge_pids(), timeout=15)
    samples = gunicorn.scrape()
    # ...while the requests it served still count, and only the scrape itself is in flight.
    assert value(samples, "nemordp_http_requests_total", **labels) == REQUESTS
    assert value(samples, "nemordp_http_requests_in_progress") == 1
