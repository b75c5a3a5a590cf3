"""PostgreSQL connections come from a pool sized by the settings; SQLite gets none."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.pool import QueuePool

import config
from app.extensions import db


def test_the_postgresql_pool_has_the_configured_size_recycle_and_pre_ping(app: Flask) -> None:
    with app.app_context():
        pool = db.engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.size() == app.config["DB_POOL_SIZE"] == 20
    assert pool._max_overflow == app.config["DB_MAX_OVERFLOW"] == 30
    assert pool._recycle == app.config["DB_POOL_RECYCLE"] == 3600
    assert pool._pre_ping is True


def test_sqlite_gets_no_pool_sizes() -> None:
    class SqliteConfig(config.BaseConfig):
        SQLALCHEMY_DATABASE_URI = "sqlite:///nemordp.db"
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    SqliteConfig.finalise()
    assert SqliteConfig.SQLALCHEMY_ENGINE_OPTIONS == {"pool_pre_ping": True}
