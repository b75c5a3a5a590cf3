"""Each setting has a type, a default and a meaning; a value of the wrong type or out of range
stops start-up with a message naming the setting, never a bare ValueError or a silent default."""

from __future__ import annotations

import pytest

import config
import settings
from settings import Settings, SettingsError
from tests.config.processes import python


def test_a_number_that_is_not_one_stops_start_up_naming_the_setting() -> None:
    started = python("import wsgi", NEMORDP_ENV="test", DB_POOL_SIZE="abc")
    assert started.returncode != 0
    assert "DB_POOL_SIZE: input should be a valid integer" in started.stderr
    assert "(got 'abc')" in started.stderr


def test_a_misspelt_boolean_is_refused_not_read_as_false(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIL_USE_TLS", "ture")
    with pytest.raises(SettingsError, match=r"MAIL_USE_TLS: input should be a valid boolean"):
        settings.load(Settings, None)


@pytest.mark.parametrize(
    ("spelling", "value"),
    [
        ("true", True),
        ("TRUE", True),
        ("on", True),
        ("1", True),
        ("yes", True),
        ("false", False),
        ("off", False),
        ("0", False),
        ("no", False),
    ],
)
def test_booleans_take_the_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, spelling: str, value: bool
) -> None:
    monkeypatch.setenv("MAIL_USE_TLS", spelling)
    assert settings.load(Settings, None).MAIL_USE_TLS is value


def test_every_refused_value_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "abc")
    monkeypatch.setenv("MAIL_USE_TLS", "ture")
    with pytest.raises(SettingsError) as refused:
        settings.load(Settings, None)
    assert "DB_POOL_SIZE" in str(refused.value) and "MAIL_USE_TLS" in str(refused.value)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("DB_POOL_SIZE", "0", "greater than 0"),
        ("UNPAID_ORDER_MINUTES", "20", "greater than or equal to 30"),
        ("UNPAID_ORDER_MINUTES", "2000", "less than or equal to 1440"),
        ("MAIL_PORT", "70000", "less than or equal to 65535"),
        ("PROXY_FIX_FOR", "-1", "greater than or equal to 0"),
        ("SENTRY_TRACES_SAMPLE_RATE", "2", "less than or equal to 1"),
        ("REDIS_SOCKET_TIMEOUT", "soon", "valid number"),
        ("LOG_LEVEL", "verbose", "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
        ("RATELIMIT_GLOBAL", "lots", "not a rate limit"),
        ("VULTR_RATE_LIMIT", "25 a second", "not a rate limit"),
    ],
)
def test_values_out_of_range_or_of_the_wrong_shape_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        settings.load(Settings, None)
    assert f"{name}: " in str(refused.value)
    assert problem in str(refused.value)
    assert f"(got {value!r})" in str(refused.value)


def test_an_empty_value_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "")
    monkeypatch.setenv("MAIL_USE_TLS", "")
    loaded = settings.load(Settings, None)
    assert (loaded.DB_POOL_SIZE, loaded.MAIL_USE_TLS) == (20, False)


def test_values_arrive_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "7")
    monkeypatch.setenv("REDIS_SOCKET_TIMEOUT", "2.5")
    monkeypatch.setenv("FORCE_HTTPS", "on")
    loaded = settings.load(Settings, None)
    assert (loaded.DB_POOL_SIZE, loaded.REDIS_SOCKET_TIMEOUT, loaded.FORCE_HTTPS) == (7, 2.5, True)


def test_every_setting_has_a_type_a_default_and_a_one_line_meaning() -> None:
    for name, field in Settings.model_fields.items():
        assert field.annotation is not None, name
        assert not field.is_required(), name
        assert field.description and "\n" not in field.description, name


def test_each_environment_holds_every_setting_under_its_flask_key() -> None:
    for config_class in (config.DevelopmentConfig, config.TestConfig, config.ProductionConfig):
        for name in Settings.model_fields:
            assert hasattr(config_class, settings.FLASK_KEYS.get(name, name)), name
