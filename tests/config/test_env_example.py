"""``.env.example`` is written from the settings class: the committed file is the one it
writes, so no setting is missing from it or described twice."""

from __future__ import annotations

from flask import Flask

import settings
from app import create_app
from config import config_for
from tests.config.processes import ROOT


def test_the_committed_env_example_is_the_one_the_settings_write() -> None:
    committed = (ROOT / ".env.example").read_text()
    assert committed == settings.example(), "regenerate it: flask config example > .env.example"


def test_the_example_gives_every_setting_its_meaning_type_and_default() -> None:
    example = settings.example()
    for name in settings.Settings.model_fields:
        assert f"\n#{name}=" in example, name
    assert "\n#DB_POOL_SIZE=20\n" in example
    assert "[integer, > 0]" in example
    assert "[text; or SECRET_KEY_FILE, a file holding it]" in example


def test_flask_config_example_prints_it() -> None:
    app: Flask = create_app(config_for("test"))
    result = app.test_cli_runner().invoke(args=["config", "example"])
    assert result.exit_code == 0
    assert result.stdout == settings.example()
