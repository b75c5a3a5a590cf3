"""Provisioning scale: many machines ordered at once against the provider emulators.

Runs the real stack — gunicorn, Celery workers, Redis, PostgreSQL, both emulators with a
fixed boot time — orders ``--machines`` desktops through the API as fast as it can, and
prints the makespan (first order to last machine active) divided by the boot time (the
floor is 1.0), the time from API call to job start, and the workers' memory.

    make bench-provisioning            # or: .venv/bin/python bench/provisioning_scale.py --help
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


class Stack:
    """The processes of one run; all stopped on exit."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *argv: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (lives as long as the run)
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", type=int, default=500)
    parser.add_argument("--boot-seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=8, help="threads per worker")
    parser.add_argument(
        "--regions",
        default="us-east,australia",
        help="regions ordered in turn (us-east: Vultr, australia: Contabo)",
    )
    parser.add_argument("--status-interval", type=float, default=5.0)
    args = parser.parse_args()

    database_url = os.environ.get(
        "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/nemordp_bench"
    )
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    logs = ROOT / "var" / "bench" / "provisioning"
    logs.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("web", "vultr", "contabo", "rdp")}
    env = {
        **os.environ,
        "NEMORDP_ENV": "development",
        "NEMORDP_VAR_DIR": str(ROOT / "var" / "bench"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "VULTR_API_URL": f"http://127.0.0.1:{ports['vultr']}/v2",
        "VULTR_API_KEY": "bench",
        "CONTABO_API_URL": f"http://127.0.0.1:{ports['contabo']}/v1",
        "CONTABO_AUTH_URL": (
            f"http://127.0.0.1:{ports['contabo']}/auth/realms/contabo/protocol/openid-connect/token"
        ),
        "CONTABO_CLIENT_ID": "bench",
        "CONTABO_CLIENT_SECRET": "bench",
        "CONTABO_API_USER": "bench@example.com",
        "CONTABO_API_PASSWORD": "bench",
        "RDP_PORT": str(ports["rdp"]),
        "STATUS_CHECK_INTERVAL": str(args.status_interval),
        "FIRST_CHECK_DELAY": str(args.boot_seconds),
    }
    os.environ.update(env)
    reset_database(database_url, redis_url)

    stack = Stack(env, logs)
    try:
        python = sys.executable
        boot = str(args.boot_seconds)
        for name, prefix, extra in (
            ("vultr", "127.41", ["--rate-limit", "30"]),
            ("contabo", "127.42", []),
        ):
            stack.start(
                name,
                python,
                "-m",
                f"devtools.emulators.{name}",
                "--port",
                str(ports[name]),
                "--boot-seconds",
                boot,
                "--rdp-port",
                str(ports["rdp"]),
                "--ip-prefix",
                prefix,
                *extra,
            )
        stack.start(
            "web",
            python,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{ports['web']}",
            "wsgi:app",
        )
        workers = [
            stack.start(
                f"worker{i}",
                python,
                "-m",
                "celery",
                "-A",
                "celery_app",
                "worker",
                "-Q",
                "default,provisioning,billing,email,periodic",
                "--pool",
                "threads",
                "--concurrency",
                str(args.concurrency),
                "-n",
                f"bench{i}@%h",
                "-l",
                "WARNING",
            )
            for i in range(args.workers)
        ]
        base = f"http://127.0.0.1:{ports['web']}"
        wait_http(f"{base}/api/health")
        wait_http(f"http://127.0.0.1:{ports['vultr']}/_emulator/calls")
        wait_http(f"http://127.0.0.1:{ports['contabo']}/_emulator/calls")
        time.sleep(3)  # let the workers connect

        tokens = make_customers(base, count=min(50, args.machines))
        regions = args.regions.split(",")
        orders = [
            (tokens[i % len(tokens)], regions[i % len(regions)]) for i in range(args.machines)
        ]
        started = time.time()
        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(lambda o: place_order(base, *o), orders))
        ordered_in = time.time() - started
        rejected = sum(1 for status in statuses if status != 202)

        finished_at = wait_for_all(database_url, args.machines, args.boot_seconds * 10)
        report(args, database_url, started, ordered_in, rejected, finished_at, workers, ports)
    finally:
        stack.stop()


def reset_database(database_url: str, redis_url: str) -> None:
    import psycopg
    import redis
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}"')
    redis.Redis.from_url(redis_url).flushdb()
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*flask, "catalog", "load"], cwd=ROOT, check=True, capture_output=True)


def make_customers(base: str, count: int) -> list[str]:
    """Sign customers up over the API and give each an API token."""
    tokens = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for i in range(count):
            http.cookies.clear()
            body = {"email": f"bench{i}@example.com", "password": "bench-password-1"}
            signed = http.post("/api/auth/signup", json=body).json()
            created = http.post(
                "/api/auth/tokens",
                json={"name": "bench"},
                headers={"X-CSRF-Token": signed["csrf_token"]},
            ).json()
            tokens.append(created["token"])
    return tokens


def place_order(base: str, token: str, region: str) -> int:
    response = httpx.post(
        f"{base}/api/instances",
        json={"plan": "basic", "os_type": "windows", "region": region},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return response.status_code


def wait_for_all(database_url: str, expected: int, timeout: float) -> float:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    deadline = time.monotonic() + timeout
    query = sa.text(
        "SELECT count(*) FILTER (WHERE state IN ('succeeded', 'failed')) FROM jobs"
        " WHERE kind = 'provision'"
    )
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            done = conn.execute(query).scalar_one()
            if done >= expected:
                return time.time()
            time.sleep(0.5)
    return time.time()


def report(
    args: argparse.Namespace,
    database_url: str,
    started: float,
    ordered_in: float,
    rejected: int,
    finished_at: float,
    workers: list[subprocess.Popen[bytes]],
    ports: dict[str, int],
) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT state, created_at, started_at, finished_at FROM jobs"
                " WHERE kind = 'provision'"
            )
        ).all()
        providers = dict(
            conn.execute(
                sa.text(
                    "SELECT provider, count(*) FROM instances WHERE status = 'active'"
                    " GROUP BY provider"
                )
            ).all()
        )
    succeeded = [r for r in rows if r.state == "succeeded"]
    last_active = max((r.finished_at.timestamp() for r in succeeded), default=finished_at)
    makespan = last_active - started
    to_start = [(r.started_at - r.created_at).total_seconds() * 1000 for r in rows if r.started_at]
    rss = [
        sum(p.memory_info().rss for p in [psutil.Process(w.pid), *psutil.Process(w.pid).children()])
        for w in workers
        if w.poll() is None
    ]
    machines: dict[str, Any] = {}
    for name in ("vultr", "contabo"):
        listed = httpx.get(f"http://127.0.0.1:{ports[name]}/_emulator/machines").json()
        machines[name] = sum(1 for m in listed if not m["destroyed"])

    print(f"machines ordered         {args.machines} ({rejected} rejected), in {ordered_in:.1f} s")
    print(f"jobs succeeded / failed  {len(succeeded)} / {len(rows) - len(succeeded)}")
    print(f"active by provider       {providers}")
    print(f"machines at emulators    {machines} (must equal the active count: no duplicates)")
    print(f"boot time                {args.boot_seconds:.1f} s")
    print(f"makespan                 {makespan:.1f} s")
    print(f"makespan / boot time     {makespan / args.boot_seconds:.2f}  (floor 1.0)")
    if to_start:
        print(
            f"API call to job start    p50 {statistics.median(to_start):.0f} ms,"
            f" p95 {percentile(to_start, 95):.0f} ms"
        )
    print(f"worker memory (RSS)      {', '.join(f'{r / 2**20:.0f} MiB' for r in rss)}")
    print(f"workers                  {args.workers} x {args.concurrency} threads")


if __name__ == "__main__":
    main()
