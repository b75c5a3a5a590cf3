"""Rows for tests, written straight to the database."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select

from app.models import Instance, InstanceStatus, Plan
from app.models.instance import machine_label
from tests.support.database import Database


def make_instance(
    database: Database,
    user_id: int,
    *,
    status: str = InstanceStatus.ACTIVE,
    plan: str = "basic",
    **fields: Any,
) -> Instance:
    plan_id = database.scalar(select(Plan.id).where(Plan.code == plan))
    values: dict[str, Any] = {
        "os_type": "windows",
        "region": "us-east",
        "provider": "vultr",
        "provider_id": f"prov-{user_id}-{status}",
        "ip_address": "203.0.113.10",
        "username": "Administrator",
        **fields,
    }
    instance = Instance(user_id=user_id, plan_id=plan_id, status=status, **values)
    database.add(instance)
    return instance


def label_of(instance: Instance) -> str:
    """The label the platform gives this instance's machine (the test settings' install)."""
    return machine_label(os.environ["INSTALL_ID"], instance.id)
