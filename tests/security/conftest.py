"""Fixtures of the hostile-input tests: the world of parties and objects, priced plans."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.models import Plan
from tests.security.world import World, build_world
from tests.support.database import Database


@pytest.fixture()
def world(app: Flask, database: Database) -> World:
    return build_world(app, database)


@pytest.fixture()
def priced_plans(database: Database, stripe_server: str) -> Iterator[None]:
    """Every plan has a Stripe price id, as after `flask billing sync-catalog` (plan changes
    need one): the local Stripe is started first, which syncs the catalogue, so a price id
    it knows is never replaced by a placeholder; plans still without one get a placeholder
    for the test and lose it afterwards."""
    unpriced = database.scalars(select(Plan.id).where(Plan.stripe_price_id.is_(None)))
    with database.session() as session:
        for plan_id in unpriced:
            placeholder = f"price_placeholder_{plan_id}"
            session.execute(
                update(Plan).where(Plan.id == plan_id).values(stripe_price_id=placeholder)
            )
        session.commit()
    yield
    with database.session() as session:
        session.execute(update(Plan).where(Plan.id.in_(unpriced)).values(stripe_price_id=None))
        session.commit()
