"""Fixtures of the operator console tests: an admin, a staff member, a customer, and the
catalogue put back as it was after a test changes it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select, update

from app import cache
from app.models import Plan, Role
from app.services import catalog
from tests.support.accounts import make_staff
from tests.support.api import Customer
from tests.support.database import Database

PLAN_COLUMNS = ("orderable", "closed_regions", "price_cents", "price_changed_at", "stripe_price_id")


@pytest.fixture()
def admin(app: Flask, database: Database) -> Customer:
    return make_staff(Customer(app.test_client()), database, role=Role.ADMIN)


@pytest.fixture()
def staff(app: Flask, database: Database) -> Customer:
    return make_staff(Customer(app.test_client()), database, role=Role.STAFF)


@pytest.fixture()
def customer(app: Flask) -> Customer:
    return Customer(app.test_client())


@pytest.fixture()
def catalogue_restored(app: Flask, database: Database, stripe_server: str) -> Iterator[None]:
    """The plans (kept between tests) as they were before the test, cache included. Saved
    once the local Stripe has synced the catalogue: restoring the prices of a catalogue
    not yet synced would leave every later test's orders without a price."""
    saved = {
        plan.id: {column: getattr(plan, column) for column in PLAN_COLUMNS}
        for plan in database.scalars(select(Plan))
    }
    yield
    with database.session() as session:
        for plan_id, values in saved.items():
            session.execute(update(Plan).where(Plan.id == plan_id).values(**values))
        session.commit()
    with app.app_context():
        cache.invalidate(catalog.CACHE_NAMESPACE)
