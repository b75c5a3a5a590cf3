"""Fixtures: a real PostgreSQL schema built by the migrations, Redis, SMTP and a Celery worker."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.stack.stand_ins import emulator_settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Settings are read when config.py is imported, so the environment is fixed first; the
# worker processes started below inherit it.
os.environ["NEMORDP_ENV"] = "test"
os.environ.setdefault("MAIL_PORT", str(_free_port()))
# Metrics of this process and of the worker processes add up in one fresh directory, as
# under gunicorn (prometheus_client reads this before its first import).
METRICS_DIR = tempfile.mkdtemp(prefix="nemordp-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR
VULTR_PORT, CONTABO_PORT = _free_port(), _free_port()
RDP_PORT = _free_port()
# The app served over HTTP (browsers, webhooks, agents) and the local Stripe that calls it.
LIVE_PORT, STRIPE_PORT = _free_port(), _free_port()
STRIPE_WEBHOOK_SECRET = "whsec_test_local"
os.environ.update(
    {
        # The provider emulators; tests read the credentials ("test-vultr-key", ...).
        **emulator_settings(
            {
                "vultr": f"http://127.0.0.1:{VULTR_PORT}",
                "contabo": f"http://127.0.0.1:{CONTABO_PORT}",
            },
            RDP_PORT,
            "test",
        ),
        "STATUS_CHECK_INTERVAL": "0.3",
        "FIRST_CHECK_DELAY": "0.5",
        "PROVIDER_TIMEOUT": "1.5",
        "RDP_PROBE_TIMEOUT": "1",
        "PROVIDER_RETRY_BASE": "0.2",
        "PROVIDER_RETRY_CAP": "1",
        "PROVIDER_RETRY_MAX": "4",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{LIVE_PORT}",
        "STRIPE_API_BASE": f"http://127.0.0.1:{STRIPE_PORT}",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "STRIPE_MAX_NETWORK_RETRIES": "1",
        "STRIPE_TIMEOUT": "5",
        # Machine labels name the install (tests.support.factories.label_of).
        "INSTALL_ID": "testsuite",
    }
)
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
ARTIFACTS.mkdir(exist_ok=True)

import redis  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.services.alerts import KEY_PREFIX as ALERT_KEY_PREFIX  # noqa: E402
from config import TestConfig, config_for  # noqa: E402
from devtools.emulators.core import BackgroundServer, EmulatorSettings  # noqa: E402
from devtools.stack.platform import Worker  # noqa: E402
from devtools.stack.stand_ins import LocalStripe, webhook_endpoint  # noqa: E402
from tests.support.database import Database  # noqa: E402
from tests.support.emulators import EmulatorHandle  # noqa: E402
from tests.support.mailbox import Mailbox  # noqa: E402

pytest_plugins = ("tests.support.browser_fixtures",)

KEPT_TABLES = {"alembic_version", "plans"}
# The queues of machine jobs: orders, and actions on existing machines.
MACHINE_QUEUES = ("provisioning", "actions")


def _reset_database(app: Flask) -> None:
    """Drop everything and build the schema through the migrations, as production does."""
    import psycopg
    from flask_migrate import upgrade

    url = db.engine.url
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,))
        if exists.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{url.database}"')
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(directory=str(ROOT / "migrations"))
    from app.services import catalog

    catalog.load()


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    app = create_app(config_for("test"))
    with app.app_context():
        _reset_database(app)
        app.extensions["celery"].connection_for_write().default_channel.client.flushdb()
    yield app
    shutil.rmtree(METRICS_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def database(app: Flask) -> Database:
    with app.app_context():
        return Database(db.engine)


@pytest.fixture(autouse=True)
def clean_tables(database: Database) -> None:
    """Each test starts with no rows but the catalogue."""
    tables = [t.name for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
    statement = text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    # A task of the previous test may still hold a row lock: wait for it, never deadlock.
    for attempt in range(5):
        try:
            with database.engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                conn.execute(statement)
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.2)


@pytest.fixture(autouse=True)
def no_alert_mailed_yet(app: Flask) -> None:
    """Each test starts with no incident alerted: alerts are mailed once per window, and a
    window claimed by an earlier test would suppress this test's alert."""
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    keys = list(client.scan_iter(f"{ALERT_KEY_PREFIX}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(int(os.environ["MAIL_PORT"]))
    box.start()
    yield box
    box.stop()


def _emulator_settings(ip_prefix: str) -> EmulatorSettings:
    return EmulatorSettings(
        boot_seconds=1.0,
        restart_seconds=0.5,
        not_found_seconds=0.3,
        ip_delay_seconds=0.5,
        timeout_seconds=3.0,
        rate_limit_per_second=30,
        rdp_port=RDP_PORT,
        ip_prefix=ip_prefix,
    )


@pytest.fixture(scope="session")
def vultr_server() -> Iterator[EmulatorHandle]:
    from devtools.emulators import vultr

    server = BackgroundServer(vultr.create_app(_emulator_settings("127.31")), VULTR_PORT).start()
    yield EmulatorHandle(server.url)
    server.stop()


@pytest.fixture(scope="session")
def contabo_server() -> Iterator[EmulatorHandle]:
    from devtools.emulators import contabo

    app = contabo.create_app(_emulator_settings("127.32"))
    server = BackgroundServer(app, CONTABO_PORT).start()
    yield EmulatorHandle(server.url)
    server.stop()


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The real app on its own port, werkzeug's threaded server in a background thread."""
    server = BackgroundServer(app, LIVE_PORT).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def local_stripe(app: Flask, live_server: str) -> Iterator[LocalStripe]:
    """The local Stripe in its own process, delivering signed webhooks to the live server,
    with the plan catalogue synced to it."""
    webhook = webhook_endpoint(live_server, STRIPE_WEBHOOK_SECRET)
    with open(ARTIFACTS / "stripe.log", "ab") as log:
        stripe = LocalStripe(STRIPE_PORT, webhook, log)
        stripe.start(from_scratch=True)
        from app.services import stripe_catalog

        with app.app_context():
            stripe_catalog.sync()
        yield stripe
        stripe.stop()


@pytest.fixture(scope="session")
def stripe_server(local_stripe: LocalStripe) -> str:
    """The local Stripe's URL (STRIPE_API_BASE)."""
    return local_stripe.url


@pytest.fixture()
def machine_jobs_held(app: Flask) -> Iterator[None]:
    """Machine jobs stay queued for the test: a running worker stops consuming their queue,
    and what the test queued is dropped before it resumes."""
    celery = app.extensions["celery"]
    for queue in MACHINE_QUEUES:
        celery.control.cancel_consumer(queue, reply=True, timeout=0.5)
    yield
    celery.connection_for_write().default_channel.client.delete(*MACHINE_QUEUES)
    for queue in MACHINE_QUEUES:
        celery.control.add_consumer(queue, reply=True, timeout=0.5)


@pytest.fixture()
def vultr(vultr_server: EmulatorHandle, worker: Any) -> EmulatorHandle:
    """The Vultr emulator, emptied, with a worker running against it."""
    vultr_server.reset()
    return vultr_server


@pytest.fixture()
def contabo(contabo_server: EmulatorHandle, worker: Any) -> EmulatorHandle:
    """The Contabo emulator, emptied, with a worker running against it."""
    contabo_server.reset()
    return contabo_server


@pytest.fixture(scope="session")
def worker(
    app: Flask,
    mailbox: Mailbox,
    vultr_server: EmulatorHandle,
    contabo_server: EmulatorHandle,
    stripe_server: str,
) -> Iterator[Worker]:
    """A real Celery worker process consuming every queue, with every service it calls."""
    env = {**os.environ, "DATABASE_URL": TestConfig.SQLALCHEMY_DATABASE_URI}
    with open(ARTIFACTS / "worker.log", "ab") as log:
        process = Worker(env, log, celery=app.extensions["celery"], name=f"test-{os.getpid()}@%h")
        process.start()
        yield process
        process.stop()


@pytest.fixture()
def inbox(mailbox: Mailbox, worker: Any) -> Mailbox:
    """The local SMTP server, emptied, with a worker running to deliver to it."""
    mailbox.clear()
    return mailbox
