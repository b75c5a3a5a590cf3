"""Helpers of the operator console tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from werkzeug.test import TestResponse

from app.models import AuditEvent
from tests.support.api import Customer
from tests.support.database import Database


def audited(database: Database, action: str) -> list[dict[str, Any]]:
    """The details of each ``admin.<action>`` event, with its actor, oldest first."""
    events = database.scalars(
        select(AuditEvent).where(AuditEvent.action == f"admin.{action}").order_by(AuditEvent.id)
    )
    return [{**event.details, "actor": event.user_id} for event in events]


def patch(who: Customer, path: str, body: dict[str, Any]) -> TestResponse:
    return who.client.patch(path, json=body, headers={"X-CSRF-Token": who.csrf})
