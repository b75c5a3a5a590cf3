"""PgBouncer in transaction mode (Debian's 1.18, which cannot follow prepared statements)
in front of the test database, with one server connection shared by two clients taking
turns, as many web and worker processes share a few: the statements psycopg prepares
collide there, unless ``DB_PREPARED_STATEMENTS`` is off (docs/deploy.md, "Scaling out")."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

import config
from devtools.stack.pgbouncer import PGBOUNCER, PgBouncer
from devtools.stack.ports import free_port
from tests.deploy.conftest import _ensure_debian_package

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture()
def pgbouncer() -> Iterator[PgBouncer]:
    _ensure_debian_package(PGBOUNCER, "pgbouncer")
    database = make_url(config.TestConfig.SQLALCHEMY_DATABASE_URI)
    # Under /tmp itself: run as root, PgBouncer runs as postgres, who must reach its files.
    directory = Path(tempfile.mkdtemp(prefix="nemordp-pgbouncer-"))
    with open(ARTIFACTS / "pgbouncer.log", "ab") as log:
        bouncer = PgBouncer(directory, free_port(), database.port or 5432, database.database, log)
        try:
            bouncer.start()
            yield bouncer
        finally:
            bouncer.stop()
            shutil.rmtree(directory, ignore_errors=True)


def _engine_options(monkeypatch: pytest.MonkeyPatch, prepared: bool) -> dict[str, object]:
    monkeypatch.setattr(config.TestConfig, "DB_PREPARED_STATEMENTS", prepared)
    # Put back afterwards: `config_for` rewrites them.
    options = config.TestConfig.SQLALCHEMY_ENGINE_OPTIONS
    monkeypatch.setattr(config.TestConfig, "SQLALCHEMY_ENGINE_OPTIONS", options)
    return config.config_for("test").SQLALCHEMY_ENGINE_OPTIONS


def _two_clients_take_turns(url: str, options: dict[str, object]) -> None:
    """Each of two clients runs the same statement ten times, one transaction each time."""
    engine = create_engine(url, **options)
    try:
        with engine.connect() as first, engine.connect() as second:
            for n in range(10):
                for connection in (first, second):
                    assert connection.execute(text("SELECT :n + 1"), {"n": n}).scalar() == n + 1
                    connection.commit()
    finally:
        engine.dispose()


def test_prepared_statements_collide_behind_pgbouncer_in_transaction_mode(
    pgbouncer: PgBouncer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DBAPIError, match=r"prepared statement .* already exists"):
        _two_clients_take_turns(pgbouncer.url, _engine_options(monkeypatch, prepared=True))


def test_without_prepared_statements_pgbouncer_in_transaction_mode_just_works(
    pgbouncer: PgBouncer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_clients_take_turns(pgbouncer.url, _engine_options(monkeypatch, prepared=False))
