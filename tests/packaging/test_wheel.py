"""The built wheel is the whole platform. Installed with the locked dependencies into a fresh
virtualenv outside the repository, its ``nemordp`` command migrates an empty PostgreSQL
database, loads the plan catalogue and starts the web app and a worker in production, which
serve pages, static files and data and answer ``/api/health`` healthy. The wheel carries
the code's templates, static files, data, migrations and agent scripts, and nothing of
devtools/, tests/ or bench/."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy.engine import make_url

from tests.conftest import ARTIFACTS, ROOT, _free_port
from tests.support.emulators import EmulatorHandle, wait_until

# Folders whose every file the installed platform needs, and the top-level modules.
SHIPPED_FOLDERS = ("app", "workers", "tasks", "migrations", "agent")
SHIPPED_MODULES = ("config.py", "settings.py", "celery_app.py", "wsgi.py")
DEVELOPMENT_ONLY = ("devtools/", "tests/", "bench/")
WORKER_NAME = f"wheel-{os.getpid()}@localhost"


def _run(command: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source archive and the wheel as `make wheel` builds them (the wheel from the
    archive, each in isolation)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out)
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("nemordp-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the runtime lock and the wheel, as a production host has."""
    home = tmp_path_factory.mktemp("platform")
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=home)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    _run([*pip, "--require-hashes", "-r", str(ROOT / "requirements.lock")], cwd=home)
    _run([*pip, "--no-deps", str(wheel)], cwd=home)
    _run([str(venv / "bin" / "python"), "-m", "pip", "check"], cwd=home)
    return venv


@pytest.fixture()
def empty_database(app: Flask) -> Iterator[str]:
    """The URL of a database of its own with nothing in it."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = f"{url.database}_wheel"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _production(venv: Path, state: Path, **settings: str) -> dict[str, str]:
    """A production environment with secrets of its own, and nothing from this process's
    (no PYTHONPATH: the platform can only come from the virtualenv)."""
    return {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.defpath}",
        "HOME": str(state),
        "LANG": "C.UTF-8",
        "NEMORDP_ENV": "production",
        "NEMORDP_VAR_DIR": str(state / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(state / "metrics"),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "STRIPE_SECRET_KEY": f"sk_test_{secrets.token_urlsafe(32)}",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_urlsafe(32)}",
        "INSTALL_ID": secrets.token_hex(4),
        "FORCE_HTTPS": "false",
        "HEALTH_CACHE_SECONDS": "1",
        **settings,
    }


@contextlib.contextmanager
def _serving(
    command: list[str], cwd: Path, env: Mapping[str, str], log_name: str
) -> Iterator[None]:
    """A server in its own process group, stopped with everything it forked."""
    with open(ARTIFACTS / log_name, "wb") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


def _health_once_healthy(url: str, deadline: float) -> dict[str, Any]:
    """The health report, polled until it says healthy or the servers had their time."""
    report: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            report = httpx.get(url, timeout=5).json()
            if report.get("status") == "healthy":
                break
        time.sleep(0.5)
    return report


def test_wheel_holds_the_platform_and_no_development_tools(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "nemordp = app.entrypoint:main" in archive.read(entry_points).decode()
    needed = set(SHIPPED_MODULES) | {
        path.relative_to(ROOT).as_posix()
        for folder in SHIPPED_FOLDERS
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert sorted(needed - names) == []
    assert sorted(n for n in names if n.startswith(DEVELOPMENT_ONLY) or "__pycache__" in n) == []


def test_source_archive_holds_no_development_tools(dist: Path) -> None:
    (archive,) = dist.glob("nemordp-*.tar.gz")
    with tarfile.open(archive) as source:
        names = [name.split("/", 1)[-1] for name in source.getnames()]
    assert "config.py" in names and "migrations/env.py" in names
    assert sorted(n for n in names if n.startswith(DEVELOPMENT_ONLY) or "__pycache__" in n) == []


def test_installed_wheel_runs_the_platform_outside_the_repository(
    venv: Path,
    empty_database: str,
    app: Flask,
    vultr_server: EmulatorHandle,
    contabo_server: EmulatorHandle,
    stripe_server: str,
    tmp_path: Path,
) -> None:
    port = _free_port()
    (tmp_path / "metrics").mkdir()  # made by the host's start-up (deploy/systemd)
    env = _production(
        venv,
        tmp_path,
        DATABASE_URL=empty_database,
        REDIS_URL=app.config["REDIS_URL"],
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        VULTR_API_URL=app.config["VULTR_API_URL"],
        CONTABO_API_URL=app.config["CONTABO_API_URL"],
        CONTABO_AUTH_URL=app.config["CONTABO_AUTH_URL"],
        STRIPE_API_BASE=stripe_server,
    )
    nemordp = str(venv / "bin" / "nemordp")
    python = str(venv / "bin" / "python")
    where = _run(
        [python, "-c", "import app, config; print(app.__file__, config.__file__)"], tmp_path, env
    )
    assert all(Path(module).is_relative_to(venv) for module in where.split())
    # The first-boot script renders the agent's systemd timer from the installed agent/.
    first_boot = _run(
        [
            python,
            "-c",
            "from workers.agent_install import AgentSetup, linux_files;"
            "print(linux_files(AgentSetup('https://example.test', 1, 'token', 5))[-1])",
        ],
        tmp_path,
        env,
    )
    timer = base64.b64decode(first_boot.split("content:")[1]).decode()
    assert "OnUnitActiveSec=5min" in timer

    _run([nemordp, "db", "upgrade"], tmp_path, env)
    _run([nemordp, "catalog", "load"], tmp_path, env)
    web = [nemordp, "web", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    worker = [nemordp, "worker", "--hostname", WORKER_NAME, "--concurrency", "1"]
    base = f"http://127.0.0.1:{port}"
    with (
        _serving(web, tmp_path, env, "wheel-web.log"),
        _serving(worker, tmp_path, env, "wheel-worker.log"),
    ):
        health = _health_once_healthy(f"{base}/api/health", time.monotonic() + 90)
        assert health.get("status") == "healthy", health
        # The worker that made the platform healthy is this one, not another on the broker.
        # (Health may be healthy on the suite's own worker before this one is ready.)
        control = app.extensions["celery"].control
        assert wait_until(lambda: control.ping(destination=[WORKER_NAME], timeout=1), timeout=60)
        plans = httpx.get(f"{base}/api/plans").json()["plans"]
        login = httpx.get(f"{base}/login")
        (module,) = re.findall(r'<script type="module" src="([^"]+)"', login.text)
        bundle = httpx.get(f"{base}{module}")
        stylesheet = httpx.get(f"{base}/static/css/app.css")
        help_page = httpx.get(f"{base}/help")
        faq = httpx.get(f"{base}/api/support/faq")

    assert plans and all(plan["price_cents"] > 0 for plan in plans)
    assert login.status_code == 200 and "/static/build/app-" in login.text
    assert bundle.status_code == 200 and "immutable" in bundle.headers["cache-control"]
    assert stylesheet.status_code == 200 and stylesheet.headers["content-type"].startswith(
        "text/css"
    )
    assert help_page.status_code == 200
    assert faq.status_code == 200 and faq.json()["faqs"]
