"""A ``.env`` file is read when present (./.env, or the file NEMORDP_ENV_FILE names); the
environment wins over it; the test environment reads only a named one."""

from __future__ import annotations

from pathlib import Path

import pytest

import settings
from settings import Settings, SettingsError
from tests.config.processes import python


def _env_file(directory: Path, text: str) -> Path:
    path = directory / ".env"
    path.write_text(text)
    return path


def test_the_file_nemordp_env_file_names_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _env_file(tmp_path, "# a comment\nDB_POOL_SIZE=7\nMAIL_USE_TLS=true\nUNKNOWN=1\n")
    monkeypatch.setenv("NEMORDP_ENV_FILE", str(path))
    assert settings.env_file() == path
    loaded = settings.load(Settings, settings.env_file())
    assert (loaded.DB_POOL_SIZE, loaded.MAIL_USE_TLS) == (7, True)


def test_the_environment_wins_over_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _env_file(tmp_path, "DB_POOL_SIZE=7\nDB_MAX_OVERFLOW=3\n")
    monkeypatch.setenv("DB_POOL_SIZE", "9")
    loaded = settings.load(Settings, path)
    assert (loaded.DB_POOL_SIZE, loaded.DB_MAX_OVERFLOW) == (9, 3)


def test_a_bad_value_in_the_file_is_refused_naming_the_setting(tmp_path: Path) -> None:
    path = _env_file(tmp_path, "MAIL_USE_TLS=ture\n")
    with pytest.raises(SettingsError, match="MAIL_USE_TLS"):
        settings.load(Settings, path)


def test_a_named_file_that_is_missing_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEMORDP_ENV_FILE", str(tmp_path / "absent.env"))
    with pytest.raises(SettingsError, match=r"NEMORDP_ENV_FILE: .*absent\.env is not a file"):
        settings.env_file()


def test_dot_env_in_the_working_directory_is_read_outside_the_test_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _env_file(tmp_path, "DB_POOL_SIZE=7\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEMORDP_ENV_FILE", raising=False)
    assert settings.env_file() is None  # NEMORDP_ENV=test: the suite never reads a local file
    monkeypatch.setenv("NEMORDP_ENV", "development")
    assert settings.env_file() == Path(".env")


def test_the_platform_starts_from_dot_env_alone(tmp_path: Path) -> None:
    _env_file(
        tmp_path,
        f"NEMORDP_ENV=development\nNEMORDP_VAR_DIR={tmp_path / 'var'}\n"
        "DB_POOL_SIZE=7\nLOG_JSON=true\n",
    )
    started = python(
        "from config import config_for\n"
        "c = config_for()\n"
        "print(c.ENV_NAME, c.DB_POOL_SIZE, c.LOG_JSON)\n",
        cwd=tmp_path,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["development", "7", "True"]
