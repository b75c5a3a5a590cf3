"""Every secret may be given as ``<NAME>_FILE``, a file holding it (systemd credentials,
container secrets): the file's content, stripped, is the value; both at once is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import settings
from settings import Settings, SettingsError
from tests.config.processes import python

SECRETS = (
    "SECRET_KEY",
    "ENCRYPTION_KEYS",
    "DATABASE_URL",
    "MAIL_PASSWORD",
    "VULTR_API_KEY",
    "CONTABO_CLIENT_SECRET",
    "CONTABO_API_PASSWORD",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "SENTRY_DSN",
    "METRICS_TOKEN",
)


def _secret_file(directory: Path, name: str, text: str) -> Path:
    path = directory / name.lower()
    path.write_text(text)
    return path


def test_every_secret_and_url_with_a_password_may_come_from_a_file() -> None:
    from_files = {name for name in Settings.model_fields if settings.from_file_allowed(name)}
    assert from_files >= set(SECRETS)
    assert "DB_POOL_SIZE" not in from_files


@pytest.mark.parametrize("name", SECRETS)
def test_a_secret_file_gives_its_content_stripped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    monkeypatch.delenv(name, raising=False)
    path = _secret_file(tmp_path, name, "  value-from-a-file\n")
    monkeypatch.setenv(f"{name}_FILE", str(path))
    assert getattr(settings.load(Settings, None), name) == "value-from-a-file"


def test_a_secret_and_its_file_together_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VULTR_API_KEY", "from-the-environment")
    monkeypatch.setenv("VULTR_API_KEY_FILE", str(_secret_file(tmp_path, "key", "from-a-file")))
    with pytest.raises(SettingsError, match="VULTR_API_KEY and VULTR_API_KEY_FILE are both set"):
        settings.load(Settings, None)


def test_a_secret_file_named_in_the_env_file_counts_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    secret = _secret_file(tmp_path, "token", "scrape-token\n")
    env_file = tmp_path / ".env"
    env_file.write_text(f"METRICS_TOKEN_FILE={secret}\n")
    assert settings.load(Settings, env_file).METRICS_TOKEN == "scrape-token"


def test_an_unreadable_secret_file_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "absent"))
    with pytest.raises(SettingsError, match=r"SECRET_KEY_FILE: cannot read .*absent"):
        settings.load(Settings, None)


def test_a_setting_that_is_no_secret_has_no_file_variant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DB_POOL_SIZE_FILE", str(_secret_file(tmp_path, "size", "7")))
    assert settings.load(Settings, None).DB_POOL_SIZE == 20


def test_production_starts_with_every_secret_in_a_file(tmp_path: Path) -> None:
    values = {
        "SECRET_KEY": "k3J9vQ2xLm8RtZ4wNb7YpC1sHd6FgAe0Uo5Iy",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "STRIPE_SECRET_KEY": "sk_live_k3J9vQ2xLm8RtZ4wNb7YpC1sHd6FgAe0Uo5Iy",
        "STRIPE_WEBHOOK_SECRET": "whsec_k3J9vQ2xLm8RtZ4wNb7YpC1sHd6FgAe0Uo5Iy",
        "DATABASE_URL": "postgresql+psycopg://nemordp:pw@127.0.0.1:5432/nemordp",
    }
    files = {
        f"{name}_FILE": str(_secret_file(tmp_path, name, v + "\n")) for name, v in values.items()
    }
    checks = " and ".join(
        f"c.{name} == {value!r}" for name, value in values.items() if name != "DATABASE_URL"
    )
    started = python(
        "from config import config_for\n"
        "c = config_for()\n"
        f"print({checks} and c.SQLALCHEMY_DATABASE_URI == {values['DATABASE_URL']!r})\n",
        cwd=tmp_path,
        NEMORDP_ENV="production",
        INSTALL_ID="a1b2c3d4",
        **files,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "True"
