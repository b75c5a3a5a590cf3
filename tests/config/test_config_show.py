"""``flask config show`` prints every setting in effect, and never a secret: secrets are
masked whole, passwords in URLs masked in place."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from settings import MASK, Settings
from tests.config.processes import flask

# A distinct value for every secret, so any of them showing up is caught.
SECRETS = {
    "SECRET_KEY": "shown-secret-key-0001",
    "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "MAIL_PASSWORD": "shown-mail-password-0002",
    "VULTR_API_KEY": "shown-vultr-key-0003",
    "CONTABO_CLIENT_SECRET": "shown-contabo-secret-0004",
    "CONTABO_API_PASSWORD": "shown-contabo-password-0005",
    "STRIPE_SECRET_KEY": "sk_test_shown0006",
    "STRIPE_WEBHOOK_SECRET": "whsec_shown0007",
    "METRICS_TOKEN": "shown-metrics-token-0008",
    "SENTRY_DSN": "http://shownsentrykey0009@127.0.0.1:9/1",
}
DATABASE_PASSWORD = "shown-db-password-0010"
REDIS_PASSWORD = "shown-redis-password-0011"


def test_show_prints_every_setting_in_effect_and_no_secret(tmp_path: Path) -> None:
    # Half the secrets from files, half from the environment.
    given = {}
    for position, (name, value) in enumerate(SECRETS.items()):
        if position % 2:
            path = tmp_path / name.lower()
            path.write_text(value + "\n")
            given[f"{name}_FILE"] = str(path)
        else:
            given[name] = value
    shown = flask(
        "config",
        "show",
        NEMORDP_ENV="test",
        DATABASE_URL=f"postgresql+psycopg://nemordp:{DATABASE_PASSWORD}@127.0.0.1:5432/nemordp",
        REDIS_URL=f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/11",
        DB_POOL_SIZE="7",
        **given,
    )
    assert shown.returncode == 0, shown.stderr
    output = shown.stdout + shown.stderr
    for secret in [*SECRETS.values(), DATABASE_PASSWORD, REDIS_PASSWORD]:
        assert secret not in output
    lines = dict(line.split("=", 1) for line in shown.stdout.splitlines()[1:])
    assert list(lines) == list(Settings.model_fields)
    # Secrets fixed by the test environment are masked as well as those given.
    assert {lines[name] for name in SECRETS} == {MASK}
    assert lines["DATABASE_URL"] == f"postgresql+psycopg://nemordp:{MASK}@127.0.0.1:5432/nemordp"
    # Derived values are the effective ones.
    assert lines["CELERY_BROKER_URL"] == f"redis://:{MASK}@127.0.0.1:6379/11"
    assert lines["DB_POOL_SIZE"] == "7"
    assert lines["MAIL_USE_TLS"] == "false"
    assert shown.stdout.startswith("# NEMORDP_ENV=test, env file: none\n")
