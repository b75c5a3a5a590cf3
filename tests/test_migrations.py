"""The schema comes only from migrations, which must run on SQLite and match the models."""

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db
from tests.support.database import Database

ROOT = Path(__file__).resolve().parent.parent


def test_postgresql_schema_from_migrations_matches_the_models(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_migrations_build_an_sqlite_database(tmp_path: Path) -> None:
    env = {"NEMORDP_ENV": "development", "NEMORDP_VAR_DIR": str(tmp_path), "FLASK_APP": "wsgi"}
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    loaded = subprocess.run(
        [*flask, "catalog", "load"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    assert "3 plans" in loaded.stdout
    assert (tmp_path / "nemordp.db").stat().st_size > 0
