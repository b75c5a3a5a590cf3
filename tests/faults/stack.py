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
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from celery import Celery
from sqlalchemy import Engine, create_engine
from stripe import StripeClient

from devtools.emulators import contabo, vultr
from devtools.emulators.core import BackgroundServer
from devtools.stack import schema
from devtools.stack.group import Group
from devtools.stack.platform import Beat, Web, Worker
from devtools.stack.ports import free_port
from devtools.stack.services import Postgres, Redis
from devtools.stack.stand_ins import (
    STRIPE_SECRET_KEY,
    LocalStripe,
    emulator_settings,
    stripe_settings,
    webhook_endpoint,
)
from tests.support.emulators import EmulatorHandle, quick_settings
from tests.support.mailbox import Mailbox

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
        """Bring everything up; tear it all down (and delete its data) when the block ends,
        on SIGTERM too. Process output goes to ``logs``/stack.log."""
        directory = Path(tempfile.mkdtemp(prefix="nemordp-stack-"))
        os.chmod(directory, 0o755)  # the postgres user reaches its data directory below
        logs.mkdir(parents=True, exist_ok=True)
        try:
            with open(logs / "stack.log", "ab") as log, Group() as group:
                yield group.add(cls._build(directory, log, workers, settings or {}))
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    @classmethod
    def _build(
        cls, directory: Path, log: IO[bytes], workers: int, settings: Mapping[str, str]
    ) -> Stack:
        rdp_port = free_port()
        postgres = Postgres(directory / "pgdata", free_port())
        postgres.init()
        postgres.start()
        postgres.create_database()
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
            **emulator_settings(
                {"vultr": servers[0].url, "contabo": servers[1].url}, rdp_port, "faults"
            ),
            "MAIL_PORT": str(mail_port),
            **stripe_settings(f"http://127.0.0.1:{stripe_port}", web_url, WEBHOOK_SECRET),
            "PROMETHEUS_MULTIPROC_DIR": str(directory / "metrics"),
            **FAST_RECOVERY,
            **settings,
        }
        (directory / "metrics").mkdir()
        stripe = LocalStripe(stripe_port, webhook_endpoint(web_url, WEBHOOK_SECRET), log)
        stripe.start(from_scratch=True)
        schema.prepare(env, log)  # with the catalogue's prices at this private Stripe
        stack = cls(
            directory=directory,
            postgres=postgres,
            redis=redis,
            stripe=stripe,
            vultr=EmulatorHandle(servers[0].url),
            contabo=EmulatorHandle(servers[1].url),
            mailbox=mailbox,
            web=Web(web_port, env, log, threads=4),
            env=env,
            celery=Celery(broker=redis.url),
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
        worker = Worker(self.env, self.log, celery=self.celery)
        worker.start()
        self.workers.append(worker)
        return worker

    def replace_worker(self, worker: Worker) -> None:
        """SIGKILL a worker and start another in its place."""
        worker.kill()
        worker.start()

    def stripe_api(self) -> StripeClient:
        """The official client on this stack's local Stripe."""
        return StripeClient(STRIPE_SECRET_KEY, base_addresses={"api": self.stripe.url})

    @property
    def emulators(self) -> dict[str, EmulatorHandle]:
        return {"vultr": self.vultr, "contabo": self.contabo}

    def stop(self) -> None:
        """Everything down at once: the platform's processes are SIGKILLed, as in a crash."""
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
