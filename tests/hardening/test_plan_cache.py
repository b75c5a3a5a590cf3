"""The plan catalogue comes from the Redis cache, and a change to it is seen at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from app import cache
from app.extensions import db
from app.services import catalog
from tests.support.database import Database


def _basic_price(client: FlaskClient) -> int:
    plans = client.get("/api/plans").get_json()["plans"]
    return int(next(p["price_cents"] for p in plans if p["code"] == "basic"))


@pytest.fixture()
def repriced_catalogue(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """A copy of the catalogue with the basic plan a dollar dearer; the real one is
    loaded back afterwards (the plans outlive each test)."""
    data = json.loads(catalog.CATALOG_FILE.read_text())
    for plan in data["plans"]:
        if plan["code"] == "basic":
            plan["price_cents"] += 100
    changed = tmp_path / "catalog.json"
    changed.write_text(json.dumps(data))
    yield changed
    with app.app_context():
        catalog.load()


def test_the_catalogue_is_served_without_touching_the_database(
    client: FlaskClient, database: Database
) -> None:
    client.get("/api/plans")
    with database.statements() as statements:
        response = client.get("/api/plans")
    assert response.status_code == 200 and statements == []
    assert {p["code"] for p in response.get_json()["plans"]} == {"basic", "performance", "gpu"}


def test_reloading_the_catalogue_is_seen_by_the_next_request(
    client: FlaskClient, app: Flask, repriced_catalogue: Path
) -> None:
    before = _basic_price(client)
    with app.app_context():
        catalog.load(repriced_catalogue)
    assert _basic_price(client) == before + 100


def test_a_reader_that_loaded_before_a_write_never_makes_the_old_rows_current(
    client: FlaskClient, app: Flask, repriced_catalogue: Path
) -> None:
    """The race a delete-on-write cache loses: a reader loads the old rows, a write commits
    and invalidates, then the reader stores what it loaded."""
    before = _basic_price(client)

    def load_then_lose_the_race() -> list[dict[str, object]]:
        old_rows = [{"code": p.code, "price_cents": p.price_cents} for p in catalog.active_plans()]
        catalog.load(repriced_catalogue)  # commits while the reader still holds old rows
        return old_rows

    with app.app_context():
        cache.invalidate(catalog.CACHE_NAMESPACE)  # so this reader misses and loads
        stale = cache.get_or_load(catalog.CACHE_NAMESPACE, "active", load_then_lose_the_race)
    assert next(p["price_cents"] for p in stale if p["code"] == "basic") == before
    assert _basic_price(client) == before + 100


def test_a_change_rolled_back_keeps_the_cached_catalogue(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    client.get("/api/plans")
    with app.app_context():
        [basic] = [p for p in catalog.active_plans() if p.code == "basic"]
        basic.price_cents += 100
        cache.invalidate_after_commit(catalog.CACHE_NAMESPACE)
        db.session.rollback()
        db.session.commit()  # a later, unrelated commit does not carry the invalidation
    with database.statements() as statements:
        client.get("/api/plans")
    assert statements == []


def test_without_redis_the_catalogue_is_read_from_the_database(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = redis.Redis(port=1, socket_connect_timeout=0.2, decode_responses=True)
    monkeypatch.setitem(app.extensions, "cache", unreachable)
    response = client.get("/api/plans")
    assert response.status_code == 200
    assert len(response.get_json()["plans"]) == 3
