"""What the benchmarks share: a fresh database, the processes of a local stack (web,
workers, provider emulators, the local Stripe), customers signed up over the API, and
percentiles.

Each benchmark uses its own PostgreSQL database (``bench_database_url``) and empties the
Redis database of ``REDIS_URL`` (``make bench-*`` picks DB 15, never the test suite's).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import httpx
import psutil

from devtools.stack.group import Group
from devtools.stack.platform import Web, Worker
from devtools.stack.ports import free_port as free_port  # the benchmarks take it from here
from devtools.stack.processes import Process
from devtools.stack.stand_ins import (
    Emulator,
    LocalStripe,
    emulator_settings,
    stripe_settings,
    webhook_endpoint,
)

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/nemordp_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
STRIPE_WEBHOOK_SECRET = "whsec_bench"
PASSWORD = "bench-password-1"
OUR_CODE = ("app/", "workers/", "tasks/")  # as py-spy names the files of frames


# Every simulated customer calls from 127.0.0.1: the rate limits stay on (their cost is
# measured) with limits no run reaches. bench/api_load.py gives each customer an address.
ONE_ADDRESS_LIMITS = {
    "RATELIMIT_GLOBAL": "1000000 per minute",
    "RATELIMIT_AUTH_PER_ADDRESS": "1000000 per minute",
    "RATELIMIT_AUTH_PER_ACCOUNT": "1000 per minute",
}


def wait_http(url: str, timeout: float = 120) -> None:
    """Until ``url`` answers (a busy machine can take long to start many processes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=10)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def percentile(values: Iterable[float], pct: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def bench_database_url(suffix: str) -> str:
    """``DATABASE_URL`` with ``_<suffix>`` appended to its database name: each benchmark
    has its own database (``make bench-*``: nemordp_bench_<suffix>)."""
    from sqlalchemy.engine import make_url

    url = make_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)


def redis_url() -> str:
    return os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)


def reset_database(env: dict[str, str]) -> None:
    """An empty database built by the migrations, the catalogue loaded, Redis emptied.

    Runs in this process, whose environment must already be ``env`` (settings are read
    when the app is first imported)."""
    import psycopg
    import redis
    from flask_migrate import upgrade
    from sqlalchemy.engine import make_url

    from app import create_app
    from app.services import catalog

    url = make_url(env["DATABASE_URL"])
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}"')
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    with create_app().app_context():
        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade(directory=str(ROOT / "migrations"))
        catalog.load()


def wait_for_workers(count: int, timeout: float = 60) -> None:
    """Until ``count`` Celery workers answer a ping."""
    from app import create_app

    celery = create_app().extensions["celery"]
    deadline = time.monotonic() + timeout
    while len(celery.control.ping(timeout=0.5)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} Celery workers did not start")


def flask(*argv: str, env: dict[str, str]) -> None:
    """Run a ``flask`` command of the app; its output is shown only if it fails."""
    done = subprocess.run(
        [PYTHON, "-m", "flask", "--app", "wsgi", *argv], cwd=ROOT, env=env, capture_output=True
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout.decode() + done.stderr.decode())
        raise RuntimeError(f"flask {' '.join(argv)} failed")


def base_env(
    database_url: str, *, environment: str = "development", var: Path | None = None
) -> dict[str, str]:
    """The environment of every process of a run; metrics files go to an emptied directory,
    as in production."""
    var = var or ROOT / "var" / "bench"
    metrics = var / "prometheus"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True)
    return {
        **os.environ,
        "NEMORDP_ENV": environment,
        "NEMORDP_VAR_DIR": str(var),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url(),
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "INSTALL_ID": "bench",  # machine labels name the install (production requires one)
    }


def provider_env(vultr_port: int, contabo_port: int, rdp_port: int) -> dict[str, str]:
    """Point the provider clients at the local emulators."""
    vultr, contabo = f"http://127.0.0.1:{vultr_port}", f"http://127.0.0.1:{contabo_port}"
    return emulator_settings({"vultr": vultr, "contabo": contabo}, rdp_port, "bench")


def stripe_env(stripe_port: int, web_port: int) -> dict[str, str]:
    """Point billing at the local Stripe, which calls the web server back."""
    stripe, web = f"http://127.0.0.1:{stripe_port}", f"http://127.0.0.1:{web_port}"
    return stripe_settings(stripe, web, STRIPE_WEBHOOK_SECRET)


class Stack:
    """The processes of one run, started by the stack launcher, each logging to
    ``logs/<name>.log``; all stopped by `stop`, which Ctrl-C and SIGTERM reach through the
    caller's ``finally``. Each is returned as soon as it is spawned: the caller waits for
    what it needs."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.group = Group().stop_on_signals()
        logs.mkdir(parents=True, exist_ok=True)

    def _log(self, name: str) -> IO[bytes]:
        return open(self.logs / f"{name}.log", "wb")

    def _spawn(self, process: Process) -> subprocess.Popen[bytes]:
        self.group.add(process).spawn()
        assert process.popen is not None
        return process.popen

    def emulator(
        self, provider: str, port: int, rdp_port: int, *options: str
    ) -> subprocess.Popen[bytes]:
        """A provider emulator; ``options`` are its command-line settings."""
        log = self._log(provider)
        return self._spawn(Emulator(provider, port, rdp_port, *options, log=log, env=self.env))

    def web(
        self, port: int, workers: int, threads: int = 1, *options: str
    ) -> subprocess.Popen[bytes]:
        """gunicorn as in production (``-c gunicorn.conf.py``)."""
        log = self._log("web")
        web = Web(port, self.env, log, workers=workers, threads=threads, options=options)
        return self._spawn(web)

    def worker(
        self,
        name: str,
        concurrency: int,
        pool: str = "threads",
        queues: Iterable[str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """A Celery worker on ``queues`` (every queue by default)."""
        log = self._log(name)
        worker = Worker(
            self.env,
            log,
            name=f"{name}@%h",
            queues=queues,
            concurrency=concurrency,
            pool=pool,
            loglevel="WARNING",
        )
        return self._spawn(worker)

    def stripe(self, port: int, web_port: int) -> subprocess.Popen[bytes]:
        """The local Stripe (state in memory only), sending signed webhooks to the web
        server; the catalogue synced to it."""
        webhook = webhook_endpoint(f"http://127.0.0.1:{web_port}", STRIPE_WEBHOOK_SECRET)
        log = self._log("stripe")
        popen = self._spawn(LocalStripe(port, webhook, log, in_memory=True, env=self.env))
        wait_http(f"http://127.0.0.1:{port}/v1/customers")
        flask("billing", "sync-catalog", env=self.env)
        return popen

    def stop(self) -> None:
        self.group.stop()


class Profiler:
    """py-spy sampling processes (CPU only, idle threads left out) while the run lasts."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.samplers: list[tuple[str, subprocess.Popen[bytes]]] = []
        directory.mkdir(parents=True, exist_ok=True)

    def attach(self, name: str, pid: int) -> None:
        output = self.directory / f"{name}.txt"
        command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid)]
        command += ["--rate", "50", "--format", "raw", "--output", str(output), "--nonblocking"]
        log = open(self.directory / f"{name}.py-spy.log", "wb")  # noqa: SIM115
        self.samplers.append((name, subprocess.Popen(command, stdout=log, stderr=log)))

    def stop(self) -> list[Path]:
        for _, sampler in self.samplers:
            sampler.send_signal(signal.SIGINT)
        for _, sampler in self.samplers:
            sampler.wait(timeout=60)
        return [self.directory / f"{name}.txt" for name, _ in self.samplers]


def summarise_profile(paths: list[Path], top: int = 20) -> None:
    """Where the busy threads were: the functions of our code found in most
    samples (inclusive), and the functions most often at the top of the stack (self)."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue  # a frame name that spilled onto its own line
            samples = int(count)
            total += samples
            frames = stack.split(";")
            leaves[frames[-1]] += samples
            for frame in set(frames):
                if frame.split(" (", 1)[-1].startswith(OUR_CODE):
                    inclusive[frame] += samples
    print(f"profile: {total} samples of busy threads")
    print("  our code, inclusive:")
    for frame, samples in inclusive.most_common(top):
        print(f"    {100 * samples / max(total, 1):5.1f} %  {frame[:120]}")
    print("  self (top of the stack):")
    for frame, samples in leaves.most_common(top // 2):
        print(f"    {100 * samples / max(total, 1):5.1f} %  {frame[:120]}")


def machine_load() -> str:
    """The load average, printed with each result: these figures move with it."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def tree_rss(pid: int) -> int:
    """Resident memory of a process and its children, in bytes."""
    parent = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its living children so far."""
    parent = psutil.Process(pid)
    total = 0.0
    for process in [parent, *parent.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def customers_with_tokens(count: int, prefix: str) -> list[tuple[int, str]]:
    """Customers written straight to the database, each with an API token (its owner's
    programs call the API with it): [(user id, token)]. Run with ``reset_database``'s
    environment."""
    from app import create_app
    from app.extensions import db
    from app.models import User
    from app.security.passwords import hash_password
    from app.services import tokens

    with create_app().app_context():
        password_hash = hash_password(PASSWORD)  # once: every customer has this password
        emails = [f"{prefix}{i}@example.com" for i in range(count)]
        users = [User(email=email, password_hash=password_hash) for email in emails]
        db.session.add_all(users)
        db.session.commit()
        return [(user.id, tokens.create(user, "bench")[1]) for user in users]
