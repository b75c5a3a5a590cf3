"""The benchmarks stay runnable: each runs end to end in a tiny configuration.

Nothing here checks a timing. Each benchmark gets its own databases (named after the test
database) and a private Redis server, so its Celery workers never meet the suite's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from devtools.stack.ports import free_port
from devtools.stack.services import Redis
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Redis(tmp_path_factory.mktemp("redis"), free_port(), subprocess.DEVNULL)
    server.start()
    yield server.url
    server.stop()


def run_bench(script: str, redis_url: str, *options: str) -> str:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/nemordp_test"
        ),
    }
    for name in ("NEMORDP_ENV", "MAIL_PORT", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, f"bench/{script}", *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_api_load_reports_every_route_and_its_ratios(private_redis: str) -> None:
    out = run_bench(
        "api_load.py",
        private_redis,
        *("--users", "4", "--machines", "40", "--customers", "3"),
        *("--duration", "3", "--think", "0.2", "--sql-repeat", "2", "--web-workers", "2"),
    )
    assert "throughput" in out
    assert "errors 0 (0.00 %)" in out
    assert "instances" in out and "p50/2(floor+sql)" in out


def test_action_latency_matches_actions_to_provider_calls(private_redis: str) -> None:
    out = run_bench(
        "action_latency.py",
        private_redis,
        *("--machines", "10", "--customers", "2", "--rate", "4", "--duration", "2"),
        *("--drain", "4", "--workers", "1", "--web-workers", "2", "--status-interval", "1"),
    )
    assert "accepted 8, refused 0" in out
    assert "accepted but no provider call seen  0" in out
    assert "202 (job row) to provider call, all" in out


def test_dashboard_load_times_a_usable_instances_page(private_redis: str) -> None:
    out = run_bench(
        "dashboard_load.py", private_redis, "--machines", "5", "--runs", "1", "--web-workers", "1"
    )
    assert "cold" in out and "warm" in out


def test_provisioning_scale_builds_every_paid_order(private_redis: str) -> None:
    out = run_bench(
        "provisioning_scale.py",
        private_redis,
        *("--machines", "4", "--boot-seconds", "1", "--customers", "2", "--workers", "1"),
        *("--web-workers", "2", "--status-interval", "0.5"),
    )
    assert "machines ordered         4, paid 4" in out
    assert "jobs succeeded / failed  4 / 0" in out


def test_password_change_times_changes_and_sign_ins(private_redis: str) -> None:
    out = run_bench("password_change.py", private_redis, "--runs", "2", "--web-workers", "1")
    assert "argon2id in use (m=19456 KiB, t=2, p=1)" in out
    assert "password change" in out and "sign-in" in out


def test_console_bench_times_first_frame_keys_and_idle(private_redis: str) -> None:
    out = run_bench(
        "console.py", private_redis, "--runs", "1", "--keys", "2", "--idle-seconds", "1"
    )
    assert "first region" in out and "key to screen" in out and "idle" in out
    assert "PNG, zlib level 1 (in use)" in out
