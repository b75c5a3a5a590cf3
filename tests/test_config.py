import pytest
from cryptography.fernet import Fernet

import config


def test_production_refuses_to_start_without_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "")
    monkeypatch.setattr(config.ProductionConfig, "ENCRYPTION_KEYS", "")
    monkeypatch.setattr(config.ProductionConfig, "STRIPE_SECRET_KEY", "")
    monkeypatch.setattr(config.ProductionConfig, "STRIPE_WEBHOOK_SECRET", "")
    expected = "SECRET_KEY, DATABASE_URL, ENCRYPTION_KEYS, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET"
    with pytest.raises(RuntimeError, match=expected):
        config.config_for("production")


def test_production_refuses_a_short_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/nemordp")
    monkeypatch.setattr(config.ProductionConfig, "SECRET_KEY", "short")
    monkeypatch.setattr(config.ProductionConfig, "ENCRYPTION_KEYS", Fernet.generate_key().decode())
    monkeypatch.setattr(config.ProductionConfig, "STRIPE_SECRET_KEY", "sk_live_x")
    monkeypatch.setattr(config.ProductionConfig, "STRIPE_WEBHOOK_SECRET", "whsec_x")
    with pytest.raises(RuntimeError, match="at least 32"):
        config.config_for("production")


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(RuntimeError, match="unknown NEMORDP_ENV"):
        config.config_for("staging")
