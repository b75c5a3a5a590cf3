"""Fixtures for the fault tests: a Celery worker of the test's own that it may SIGKILL."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from celery import Celery
from flask import Flask

from app.tasking import QUEUES
from config import TestConfig
from devtools.stack.platform import Worker
from devtools.stack.stand_ins import LocalStripe
from tests.conftest import ARTIFACTS
from tests.faults.stack import Stack
from tests.support.emulators import EmulatorHandle
from tests.support.mailbox import Mailbox

# A killed worker's unacknowledged tasks go back to their queue when a worker starts and
# finds them older than the visibility timeout (two hours in production, where the
# stuck-job sweeper acts first). Short here, so a fresh worker takes them back at once.
VISIBILITY_TIMEOUT = 3


class KillableWorker:
    """One worker at a time, started, SIGKILLed and replaced on demand."""

    def __init__(self, celery: Celery, worker: Worker) -> None:
        self.celery = celery
        self.worker = worker
        self.killed_at = 0.0

    def start(self) -> None:
        self.worker.start()

    def kill(self) -> None:
        self.worker.kill()
        self.killed_at = time.monotonic()

    def replace(self) -> None:
        """Start a fresh worker once what the dead one held is due to come back."""
        time.sleep(max(0.0, self.killed_at + VISIBILITY_TIMEOUT + 0.2 - time.monotonic()))
        self.worker.start()

    def kill_and_replace(self) -> None:
        self.kill()
        self.replace()


@pytest.fixture(scope="module")
def worker_env() -> dict[str, str]:
    """Settings for `own_worker` beyond the session's; a module overrides this fixture."""
    return {}


@pytest.fixture(scope="module")
def own_worker(
    app: Flask,
    worker_env: dict[str, str],
    mailbox: Mailbox,
    vultr_server: EmulatorHandle,
    contabo_server: EmulatorHandle,
    stripe_server: str,
) -> Iterator[KillableWorker]:
    """A worker of this module's own, consuming every queue; the session's worker, if one
    is running, stops consuming meanwhile so it takes none of these tests' tasks."""
    celery = app.extensions["celery"]
    for queue in QUEUES:
        celery.control.cancel_consumer(queue, reply=True, timeout=0.5)
    env = {
        **os.environ,
        "DATABASE_URL": TestConfig.SQLALCHEMY_DATABASE_URI,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        **worker_env,
    }
    with open(ARTIFACTS / "faults-worker.log", "ab") as log:
        killable = KillableWorker(celery, Worker(env, log, celery=celery))
        killable.start()
        try:
            yield killable
        finally:
            killable.worker.kill()  # what it still held is of no test's concern
            for queue in QUEUES:
                celery.control.add_consumer(queue, reply=True, timeout=0.5)


@pytest.fixture()
def emptied_vultr(
    vultr_server: EmulatorHandle, own_worker: KillableWorker, local_stripe: LocalStripe
) -> EmulatorHandle:
    """The Vultr emulator, emptied, with this module's worker and the local Stripe up."""
    vultr_server.reset()
    return vultr_server


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The platform on private servers the tests may restart (see `tests.faults.stack`)."""
    with Stack.start(ARTIFACTS / "faults-stack") as running:
        yield running
