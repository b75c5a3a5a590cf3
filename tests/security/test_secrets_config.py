"""The app never runs with a published or weak secret: the environment is named, production
refuses every value this repository publishes and any malformed key when it starts, and
development makes its own secrets once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import config

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET = "k3J9vQ2xLm8RtZ4wNb7YpC1sHd6FgAe0Uo5Iy"


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with only ``env`` (and PATH) set."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture()
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Production settings that start; each test spoils one of them."""
    for name, value in (
        ("SQLALCHEMY_DATABASE_URI", "postgresql://db/nemordp"),
        ("SECRET_KEY", STRONG_SECRET),
        ("ENCRYPTION_KEYS", Fernet.generate_key().decode()),
        ("STRIPE_SECRET_KEY", "sk_live_" + STRONG_SECRET),
        ("STRIPE_WEBHOOK_SECRET", "whsec_" + STRONG_SECRET),
        ("INSTALL_ID", "a1b2c3d4"),
    ):
        monkeypatch.setattr(config.ProductionConfig, name, value)
    return monkeypatch


def test_the_app_refuses_to_start_without_a_named_environment() -> None:
    started = _python("import wsgi")
    assert started.returncode != 0
    assert "NEMORDP_ENV is not set: set it to development, test or production" in started.stderr


def test_development_makes_its_own_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    code = (
        "from config import config_for\n"
        "c = config_for()\n"
        "print(c.SECRET_KEY, c.STRIPE_WEBHOOK_SECRET, c.ENCRYPTION_KEYS)\n"
    )
    first = _python(code, NEMORDP_ENV="development", NEMORDP_VAR_DIR=str(tmp_path / "a"))
    again = _python(code, NEMORDP_ENV="development", NEMORDP_VAR_DIR=str(tmp_path / "a"))
    elsewhere = _python(code, NEMORDP_ENV="development", NEMORDP_VAR_DIR=str(tmp_path / "b"))
    secret_key, webhook_secret, encryption_key = first.stdout.split()
    assert first.stdout == again.stdout
    assert set(first.stdout.split()).isdisjoint(elsewhere.stdout.split())
    assert secret_key not in config.PUBLISHED_SECRETS and len(secret_key) >= 32
    assert webhook_secret.startswith("whsec_") and len(webhook_secret) >= 32
    Fernet(encryption_key)
    for name in ("secret.key", "stripe-webhook.secret", "encryption.key"):
        assert (tmp_path / "a" / name).stat().st_mode & 0o777 == 0o600


def test_production_starts_with_strong_secrets_of_its_own(production: pytest.MonkeyPatch) -> None:
    assert config.config_for("production") is config.ProductionConfig


@pytest.mark.parametrize(
    ("name", "value", "refusal"),
    [
        (
            "SECRET_KEY",
            "dev-only-secret-key-not-for-production",
            "SECRET_KEY is a published development or test value",
        ),
        ("SECRET_KEY", "test-secret-key", "SECRET_KEY is a published development or test value"),
        ("SECRET_KEY", "a" * 48, "SECRET_KEY is too weak: use at least 32 random characters"),
        (
            "STRIPE_WEBHOOK_SECRET",
            "whsec_local_development",
            "STRIPE_WEBHOOK_SECRET is a published development or test value",
        ),
        ("STRIPE_WEBHOOK_SECRET", STRONG_SECRET, "STRIPE_WEBHOOK_SECRET must start with 'whsec_'"),
        (
            "STRIPE_SECRET_KEY",
            "sk_test_local",
            "STRIPE_SECRET_KEY is a published development or test value",
        ),
        (
            "ENCRYPTION_KEYS",
            "not-a-fernet-key",
            "ENCRYPTION_KEYS entry 1 is not a Fernet key",
        ),
        (
            "ENCRYPTION_KEYS",
            f"{Fernet.generate_key().decode()},not-a-fernet-key",
            "ENCRYPTION_KEYS entry 2 is not a Fernet key",
        ),
        (
            "ENCRYPTION_KEYS",
            "r9cbyqBgW0lBZAkb4oXb_7Vd6F9QoHJ1T3g8nW1Xk2Y=",
            "ENCRYPTION_KEYS is a published development or test value",
        ),
    ],
)
def test_production_refuses_published_weak_and_malformed_secrets(
    production: pytest.MonkeyPatch, name: str, value: str, refusal: str
) -> None:
    production.setattr(config.ProductionConfig, name, value)
    with pytest.raises(RuntimeError) as refused:
        config.config_for("production")
    assert str(refused.value).startswith(refusal)
    assert value not in str(refused.value)  # the message never repeats a secret


def test_the_test_settings_serve_only_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config.TestConfig, "PUBLIC_BASE_URL", "https://rdp.example.com")
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL must be a loopback address"):
        config.config_for("test")
