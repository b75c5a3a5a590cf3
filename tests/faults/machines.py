"""Helpers shared by the fault tests: a paid, running machine and what billing holds for it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.models import Invoice, Subscription
from tests.support.api import Customer, order, wait_for_job
from tests.support.database import Database


def active_machine(customer: Customer, plan: str = "basic") -> dict[str, Any]:
    """Order, pay and wait for a Linux machine on Vultr; the instance as the API shows it."""
    ordered = order(customer, plan=plan, os_type="linux", region="us-east")
    job = wait_for_job(customer, ordered["job"]["id"], timeout=60)
    assert job["state"] == "succeeded", job
    instance: dict[str, Any] = customer.get(
        f"/api/instances/{ordered['instance']['id']}"
    ).get_json()
    assert instance["status"] == "active"
    return instance


def subscription_of(database: Database, instance_id: int) -> Subscription:
    found = database.scalar(select(Subscription).where(Subscription.instance_id == instance_id))
    assert found is not None
    return found


def paid_invoices(database: Database) -> list[Invoice]:
    return database.scalars(
        select(Invoice).where(Invoice.status == "paid", Invoice.amount_paid > 0)
    )
