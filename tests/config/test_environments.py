"""Each environment's own rules: production refuses SQLite and starts only with its secrets;
development (`make run`) runs with no settings at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import config
from tests.config.processes import python

STRONG_SECRET = "k3J9vQ2xLm8RtZ4wNb7YpC1sHd6FgAe0Uo5Iy"


@pytest.fixture()
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Production settings that start; each test spoils one of them."""
    for name, value in (
        ("SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://nemordp@db/nemordp"),
        ("SECRET_KEY", STRONG_SECRET),
        ("ENCRYPTION_KEYS", Fernet.generate_key().decode()),
        ("STRIPE_SECRET_KEY", "sk_live_" + STRONG_SECRET),
        ("STRIPE_WEBHOOK_SECRET", "whsec_" + STRONG_SECRET),
        ("INSTALL_ID", "a1b2c3d4"),
    ):
        monkeypatch.setattr(config.ProductionConfig, name, value)
    return monkeypatch


def test_production_starts_with_postgresql_and_its_own_secrets(
    production: pytest.MonkeyPatch,
) -> None:
    assert config.config_for("production") is config.ProductionConfig


@pytest.mark.parametrize("url", ["sqlite:///var/nemordp.db", "sqlite+pysqlite:///:memory:"])
def test_production_refuses_sqlite(production: pytest.MonkeyPatch, url: str) -> None:
    production.setattr(config.ProductionConfig, "SQLALCHEMY_DATABASE_URI", url)
    with pytest.raises(RuntimeError, match="DATABASE_URL: production needs PostgreSQL, not sqlite"):
        config.config_for("production")


def test_production_refuses_to_start_without_its_secrets(production: pytest.MonkeyPatch) -> None:
    for name in (
        "SECRET_KEY",
        "SQLALCHEMY_DATABASE_URI",
        "ENCRYPTION_KEYS",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
    ):
        production.setattr(config.ProductionConfig, name, "")
    expected = "SECRET_KEY, DATABASE_URL, ENCRYPTION_KEYS, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET"
    with pytest.raises(RuntimeError, match=expected):
        config.config_for("production")


def test_production_refuses_a_short_secret_key(production: pytest.MonkeyPatch) -> None:
    production.setattr(config.ProductionConfig, "SECRET_KEY", "short")
    with pytest.raises(RuntimeError, match="at least 32"):
        config.config_for("production")


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(RuntimeError, match="unknown NEMORDP_ENV"):
        config.config_for("staging")


def test_production_defaults_to_https_and_always_secures_its_cookie(tmp_path: Path) -> None:
    started = python(
        "import config\n"
        "c = config.ProductionConfig\n"
        "print(c.FORCE_HTTPS, c.SESSION_COOKIE_SECURE, config.DevelopmentConfig.FORCE_HTTPS)\n",
        cwd=tmp_path,
        SESSION_COOKIE_SECURE="false",
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["True", "True", "False"]


def test_development_runs_with_no_settings_at_all(tmp_path: Path) -> None:
    started = python(
        "from config import config_for\n"
        "c = config_for()\n"
        "print(c.SQLALCHEMY_DATABASE_URI, c.STRIPE_SECRET_KEY, c.INSTALL_ID, c.LOG_JSON)\n",
        cwd=tmp_path,
        NEMORDP_ENV="development",
        NEMORDP_VAR_DIR=str(tmp_path / "var"),
    )
    assert started.returncode == 0, started.stderr
    database, stripe_key, install_id, log_json = started.stdout.split()
    assert database == f"sqlite:///{tmp_path / 'var' / 'nemordp.db'}"
    assert stripe_key == "sk_test_local"
    assert install_id == (tmp_path / "var" / "install.id").read_text().strip()
    assert log_json == "False"
