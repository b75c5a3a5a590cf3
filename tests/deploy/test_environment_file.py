"""deploy/nemordp.env.example, filled in as docs/deploy.md says (an install id, a file per
secret), is what production needs to start: every name in it is a setting, a secret's
``_FILE`` or a unit's own variable, and the units may write where it points."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

import settings
from tests.deploy.conftest import DEPLOY, ROOT, replace_each

TEMPLATE = DEPLOY / "nemordp.env.example"
UNIT_VARIABLES = {"WEB_BIND", "WEB_WORKERS", "WEB_THREADS"}  # nemordp-web.service's own


def _names(text: str) -> list[str]:
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE)


def _secret_files(directory: Path) -> dict[str, str]:
    """A fresh value for every secret file the template names, written under ``directory``."""
    values = {
        "secret-key": secrets.token_urlsafe(48),
        "encryption-keys": Fernet.generate_key().decode(),
        "stripe-secret-key": "sk_live_" + secrets.token_urlsafe(32),
        "stripe-webhook-secret": "whsec_" + secrets.token_urlsafe(32),
        "vultr-api-key": secrets.token_hex(18),
        "contabo-client-secret": secrets.token_urlsafe(24),
        "contabo-api-password": secrets.token_urlsafe(24),
        "metrics-token": secrets.token_urlsafe(32),
        "mail-password": secrets.token_urlsafe(16),
    }
    for name, value in values.items():
        (directory / name).write_text(value + "\n")
    return values


def test_every_name_in_the_template_is_a_setting_or_a_unit_variable() -> None:
    known = set(settings.Settings.model_fields) | UNIT_VARIABLES | {"NEMORDP_ENV"}
    for name in _names(TEMPLATE.read_text()):
        setting = name.removesuffix("_FILE")
        if name.endswith("_FILE"):
            assert settings.from_file_allowed(setting), f"{name}: not a secret's file"
        else:
            assert name in known, f"{name} is not a setting"


def test_the_filled_in_template_starts_production_with_the_secrets_from_files(
    tmp_path: Path,
) -> None:
    values = _secret_files(tmp_path)
    env_file = tmp_path / "nemordp.env"
    env_file.write_text(
        replace_each(
            TEMPLATE.read_text(),
            {"INSTALL_ID=\n": "INSTALL_ID=a1b2c3d4\n", "/etc/nemordp/secrets/": f"{tmp_path}/"},
        )
    )
    show = (
        "import json; from config import config_for; c = config_for(); print(json.dumps("
        "{k: getattr(c, k) for k in ('ENV_NAME', 'SECRET_KEY', "
        "'ENCRYPTION_KEYS', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'VULTR_API_KEY', "
        "'METRICS_TOKEN', 'MAIL_PASSWORD', 'INSTALL_ID', 'PROXY_FIX_FOR', 'DB_POOL_SIZE')}))"
    )
    # Only what a unit gives the process: the file, nothing of this test run's environment.
    result = subprocess.run(
        [sys.executable, "-c", show],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "NEMORDP_ENV_FILE": str(env_file)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert loaded == {
        "ENV_NAME": "production",
        "SECRET_KEY": values["secret-key"],
        "ENCRYPTION_KEYS": values["encryption-keys"],
        "STRIPE_SECRET_KEY": values["stripe-secret-key"],
        "STRIPE_WEBHOOK_SECRET": values["stripe-webhook-secret"],
        "VULTR_API_KEY": values["vultr-api-key"],
        "METRICS_TOKEN": values["metrics-token"],
        "MAIL_PASSWORD": values["mail-password"],
        "INSTALL_ID": "a1b2c3d4",
        "PROXY_FIX_FOR": 1,
        "DB_POOL_SIZE": 10,
    }


def test_the_units_may_write_where_the_template_points() -> None:
    template = dict(
        line.split("=", 1) for line in TEMPLATE.read_text().splitlines() if re.match(r"[A-Z]", line)
    )
    writable = {template["NEMORDP_VAR_DIR"], str(Path(template["PROMETHEUS_MULTIPROC_DIR"]).parent)}
    for unit in (DEPLOY / "systemd").glob("*.service"):
        paths = re.search(r"^ReadWritePaths=(.+)$", unit.read_text(), re.MULTILINE)
        assert paths is not None and set(paths.group(1).split()) == writable, unit.name
