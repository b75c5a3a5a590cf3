"""Helpers for the scheduled-work tests: owners with auto-shutdown, machines that really
exist at the Vultr emulator, and running a task on the real worker until it has finished.

Time is controlled by writing timestamps into the database, never by sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from flask import Flask
from sqlalchemy import update

from app.models import Instance, InstanceStatus, User
from app.models.base import utcnow
from tests.support.api import Customer
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.factories import label_of, make_instance


def ago(**delta: float) -> datetime:
    return utcnow() - timedelta(**delta)


def run_task(app: Flask, name: str, *args: Any, timeout: float = 60) -> None:
    """Send a task to the real worker and wait until it has run (its own fan-out may
    still be running)."""
    celery = app.extensions["celery"]
    celery.send_task(name, args=list(args), ignore_result=False).get(timeout=timeout)


def set_preferences(database: Database, customer: Customer, **values: Any) -> None:
    with database.session() as session:
        session.execute(update(User).where(User.id == customer.id).values(**values))
        session.commit()


def set_instance(database: Database, instance_id: int, **values: Any) -> None:
    with database.session() as session:
        session.execute(update(Instance).where(Instance.id == instance_id).values(**values))
        session.commit()


def vultr_machine(vultr: EmulatorHandle, label: str, os_type: str = "windows") -> str:
    """Order a machine at the emulator as our client would; its id."""
    response = httpx.post(
        f"{vultr.base_url}/v2/instances",
        headers={"Authorization": "Bearer test-vultr-key"},
        json={
            "region": "ewr",
            "plan": "vc2-2c-4gb",
            "os_id": 501 if os_type == "windows" else 1743,
            "label": label,
        },
    )
    response.raise_for_status()
    machine_id: str = response.json()["instance"]["id"]
    wait_until(lambda: _listed(vultr, machine_id), timeout=10)
    return machine_id


def _listed(vultr: EmulatorHandle, machine_id: str) -> bool:
    return any(m["id"] == machine_id and m["status"] == "active" for m in vultr.machines())


def running_instance(
    database: Database, vultr: EmulatorHandle, user_id: int, **fields: Any
) -> Instance:
    """An active instance whose machine runs at the Vultr emulator under our label."""
    instance = make_instance(database, user_id, provider_id=None, **fields)
    machine_id = vultr_machine(vultr, label_of(instance))
    set_instance(database, instance.id, provider_id=machine_id)
    instance.provider_id = machine_id
    return instance


def status_of(database: Database, instance_id: int) -> str:
    instance = database.get(Instance, instance_id)
    assert instance is not None
    return instance.status


def wait_for_status(database: Database, instance_id: int, status: str, timeout: float = 30) -> None:
    wait_until(lambda: status_of(database, instance_id) == status, timeout=timeout)


ACTIVE = InstanceStatus.ACTIVE
