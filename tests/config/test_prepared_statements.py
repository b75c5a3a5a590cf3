"""``DB_PREPARED_STATEMENTS``: psycopg prepares a statement on its connection once it has run
five times, which PgBouncer's transaction mode (before 1.21, or without
``max_prepared_statements``) cannot follow; turned off, nothing is ever prepared."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

import config


def _prepared_after_ten_runs(options: dict[str, object], url: str) -> int:
    engine = create_engine(url, **options)
    try:
        with engine.connect() as connection:
            for n in range(10):
                connection.execute(text("SELECT :n + 1"), {"n": n})
            prepared = text("SELECT count(*) FROM pg_prepared_statements")
            return int(connection.execute(prepared).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize(("prepared", "expect_any"), [(True, True), (False, False)])
def test_statements_are_prepared_only_when_the_setting_allows(
    monkeypatch: pytest.MonkeyPatch, prepared: bool, expect_any: bool
) -> None:
    monkeypatch.setattr(config.TestConfig, "DB_PREPARED_STATEMENTS", prepared)
    # Put back afterwards: `config_for` rewrites them.
    monkeypatch.setattr(
        config.TestConfig, "SQLALCHEMY_ENGINE_OPTIONS", config.TestConfig.SQLALCHEMY_ENGINE_OPTIONS
    )
    test_config = config.config_for("test")
    count = _prepared_after_ten_runs(
        test_config.SQLALCHEMY_ENGINE_OPTIONS, test_config.SQLALCHEMY_DATABASE_URI
    )
    assert (count > 0) is expect_any
