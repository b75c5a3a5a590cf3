"""`flask billing sync-catalog`: Stripe's products and prices follow our plans, idempotently."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, update

from app.models import Plan
from tests.support.billing import stripe_api
from tests.support.database import Database


def _sync(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["billing", "sync-catalog"])
    assert result.exit_code == 0, result.output
    return result.output


def test_syncing_twice_changes_nothing_and_a_new_price_moves_the_lookup_key(
    app: Flask, database: Database, stripe_server: str
) -> None:
    first = _sync(app)
    assert _sync(app) == first
    plans = {p.code: p for p in database.scalars(select(Plan))}
    api = stripe_api()
    basic = api.v1.prices.retrieve(str(plans["basic"].stripe_price_id))
    assert basic.unit_amount == plans["basic"].price_cents and basic.recurring.interval == "month"
    assert api.v1.products.retrieve("nemordp-basic").name == "NemoRDP Basic"

    with database.session() as session:
        session.execute(update(Plan).where(Plan.code == "basic").values(price_cents=3100))
        session.commit()
    try:
        _sync(app)
        moved = database.scalar(select(Plan).where(Plan.code == "basic"))
        assert moved is not None and moved.stripe_price_id != basic.id
        assert api.v1.prices.retrieve(str(moved.stripe_price_id)).unit_amount == 3100
        others = {p.code: p.stripe_price_id for p in database.scalars(select(Plan))}
        assert others["performance"] == plans["performance"].stripe_price_id
    finally:
        with database.session() as session:
            session.execute(update(Plan).where(Plan.code == "basic").values(price_cents=2900))
            session.commit()
        _sync(app)
    restored = database.scalar(select(Plan).where(Plan.code == "basic"))
    assert restored is not None and restored.stripe_price_id == basic.id
