"""The plan catalogue: data in app/data/catalog.json, mirrored into the plans table.

The public catalogue is cached in Redis (namespace `CACHE_NAMESPACE`); loading the
catalogue invalidates it when the change commits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app import cache
from app.extensions import db
from app.models import Plan

CATALOG_FILE = Path(__file__).resolve().parent.parent / "data" / "catalog.json"
CACHE_NAMESPACE = "catalogue"

PLAN_FIELDS = (
    "name",
    "price_cents",
    "currency",
    "vcpu",
    "ram_mb",
    "disk_gb",
    "bandwidth_gb",
    "gpu",
    "rank",
    "offers",
    "snapshot_quota",
)


def load(path: Path = CATALOG_FILE) -> list[Plan]:
    """Create or update every plan in the file; plans missing from it are deactivated."""
    entries: list[dict[str, Any]] = json.loads(path.read_text())["plans"]
    existing = {plan.code: plan for plan in db.session.scalars(select(Plan))}
    loaded = []
    for entry in entries:
        plan = existing.pop(entry["code"], None) or Plan(code=entry["code"])
        for field in PLAN_FIELDS:
            if field == "price_cents" and plan.price_changed_at is not None:
                continue  # an operator set the price (`admin_catalogue`); the file no longer does
            setattr(plan, field, entry[field])
        plan.active = True
        db.session.add(plan)
        loaded.append(plan)
    for retired in existing.values():
        retired.active = False
    cache.invalidate_after_commit(CACHE_NAMESPACE)
    db.session.commit()
    return loaded


def active_plans() -> list[Plan]:
    return list(db.session.scalars(select(Plan).where(Plan.active).order_by(Plan.rank)))


def orderable_plans() -> list[Plan]:
    """The plans that take new orders (operators may close a plan to them)."""
    query = select(Plan).where(Plan.active, Plan.orderable).order_by(Plan.rank)
    return list(db.session.scalars(query))
