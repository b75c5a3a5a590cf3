"""deploy/nginx/nemordp.conf in Debian's nginx: it passes `nginx -t`, and fronts the app
started by nemordp-web.service's own command line, and Flower by nemordp-flower.service's,
over HTTPS with a self-signed certificate."""

from __future__ import annotations

import json
import os
import shlex
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from flask import Flask
from sqlalchemy import select

import app as app_package
from app.models import AuditEvent
from tests.conftest import _free_port
from tests.deploy.conftest import (
    DEPLOY,
    INSTALLED_NEMORDP,
    NEMORDP,
    ROOT,
    exec_start,
    expand,
    nginx_command,
    nginx_conf,
    replace_each,
    site_with_certificate,
)
from tests.support.database import Database

STATIC_DIR = Path(app_package.__file__).resolve().parent / "static"
HSTS = "max-age=31536000; includeSubDomains"
CLIENT = "127.0.0.2"  # the browser's address; nginx and the app talk over 127.0.0.1
FLOWER_USER, FLOWER_PASSWORD = "ops", "flower-test-password"


def test_the_site_passes_nginx_t(nginx: str, certificate: tuple[Path, Path]) -> None:
    conf = nginx_conf(certificate[0].parent, site_with_certificate(certificate))
    result = subprocess.run(
        nginx_command(nginx, conf, "-t"), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}: {log.read_text()[-3000:]}")


@contextmanager
def _serving(*servers: tuple[list[str], int, Path], env: dict[str, str]) -> Iterator[None]:
    """Each (command, port, log) started at once, until every port listens; stopped after."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for command, _, log in servers:
            with open(log, "wb") as output:
                processes.append(
                    subprocess.Popen(
                        command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=log.parent
                    )
                )
        for process, (_, port, log) in zip(processes, servers, strict=True):
            _wait_until_listening(port, process, log)
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def _web_command(port: int) -> list[str]:
    line = exec_start(DEPLOY / "systemd" / "nemordp-web.service")
    line = expand(
        line.replace(INSTALLED_NEMORDP, str(NEMORDP)),
        {"WEB_BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "1", "WEB_THREADS": "4"},
    )
    return shlex.split(line)


def _flower_command(port: int, directory: Path) -> list[str]:
    secret = directory / "flower-basic-auth"
    secret.write_text(f"{FLOWER_USER}:{FLOWER_PASSWORD}\n")
    line = replace_each(
        exec_start(DEPLOY / "systemd" / "nemordp-flower.service"),
        {
            INSTALLED_NEMORDP: str(NEMORDP),
            "/etc/nemordp/secrets/flower-basic-auth": str(secret),
            "/var/lib/nemordp/flower.db": str(directory / "flower.db"),
            "--port=5555": f"--port={port}",
        },
    )
    return shlex.split(expand(line, {}))


def _htpasswd(directory: Path) -> Path:
    """Flower's password file for nginx, made as docs/deploy.md makes it."""
    hashed = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"],
        input=FLOWER_PASSWORD,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path = directory / "nemordp-flower.htpasswd"
    path.write_text(f"{FLOWER_USER}:{hashed}\n")
    path.chmod(0o644)
    return path


def test_nginx_fronts_the_app_and_flower_over_https(
    app: Flask,
    database: Database,
    nginx: str,
    certificate: tuple[Path, Path],
    shared_tmp: Path,
) -> None:
    web_port, flower_port, http_port, https_port = (_free_port() for _ in range(4))
    site = replace_each(
        site_with_certificate(certificate),
        {
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "    listen [::]:80;\n": "",
            "    listen [::]:443 ssl http2;\n": "",
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{web_port};",
            "server 127.0.0.1:5555;": f"server 127.0.0.1:{flower_port};",
            "/opt/nemordp/lib/python3.11/site-packages/app/static/": f"{STATIC_DIR}/",
            "/etc/nginx/nemordp-flower.htpasswd": str(_htpasswd(shared_tmp)),
        },
    )
    conf = nginx_conf(shared_tmp, site)
    built = json.loads((STATIC_DIR / "build" / "manifest.json").read_text())
    # The app as deploy/nemordp.env.example configures it behind nginx, on the test database;
    # this checkout's code, run from elsewhere as the units run it.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PROXY_TRUSTED_NETWORKS": "127.0.0.1/32",
        "PROXY_FIX_FOR": "1",
        "PROXY_FIX_PROTO": "1",
        "FORCE_HTTPS": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(shared_tmp / "prometheus"),
    }
    with _serving(
        (_web_command(web_port), web_port, shared_tmp / "web.log"),
        (_flower_command(flower_port, shared_tmp), flower_port, shared_tmp / "flower.log"),
        (nginx_command(nginx, conf, "-g", "daemon off;"), https_port, shared_tmp / "nginx.log"),
        env=env,
    ):
        trust = ssl.create_default_context(cafile=str(certificate[0]))
        transport = httpx.HTTPTransport(verify=trust, local_address=CLIENT)
        with httpx.Client(
            transport=transport, base_url=f"https://127.0.0.1:{https_port}", timeout=10
        ) as client:
            page = client.get("/login")
            health = client.get("/api/health")
            plans = client.get("/api/plans")
            stylesheet = client.get("/static/css/app.css")
            bundle = client.get(
                f"/static/build/{built['entries']['app']['file']}",
                headers={"Accept-Encoding": "gzip"},
            )
            build_manifest = client.get("/static/build/manifest.json")
            login = client.post(
                "/api/auth/login",
                json={"email": "nobody@example.com", "password": "x" * 12},
                headers={"X-Forwarded-For": "192.0.2.66"},  # a client's own claim
            )
            flower_refused = client.get("/flower/")
            flower = client.get("/flower/", auth=(FLOWER_USER, FLOWER_PASSWORD))
        plain = httpx.get(f"http://127.0.0.1:{http_port}/login?next=x", timeout=10)

    # The dashboard and the API, through the proxy: the app saw HTTPS (FORCE_HTTPS would
    # redirect otherwise) and answered (every app response carries X-Request-ID).
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert health.status_code == 200
    assert health.json()["status"] in ("healthy", "degraded")
    assert plans.status_code == 200 and plans.json()
    for response in (page, health, plans, login):
        assert "x-request-id" in response.headers
    # Static files from nginx, not the app, revalidated by browsers.
    assert stylesheet.status_code == 200
    assert stylesheet.content == (STATIC_DIR / "css" / "app.css").read_bytes()
    assert "x-request-id" not in stylesheet.headers
    assert stylesheet.headers["cache-control"] == "no-cache"
    # The bundles, named by their content, are kept for good.
    assert bundle.status_code == 200 and "x-request-id" not in bundle.headers
    assert bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert bundle.headers["content-encoding"] == "gzip"  # the copy the build compressed
    assert build_manifest.status_code == 404
    # One HSTS header everywhere, whoever answered.
    for response in (page, health, plans, stylesheet, bundle, login, flower_refused, flower):
        assert response.headers.get_list("strict-transport-security") == [HSTS]
    # The app took the client's address from nginx's X-Forwarded-For, not the client's claim.
    assert login.status_code == 401
    failed = database.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
    assert failed is not None and failed.ip_address == CLIENT
    # Flower: nginx asks for the password first, then Flower itself checks the same one.
    assert flower_refused.status_code == 401
    assert flower_refused.headers["www-authenticate"] == 'Basic realm="NemoRDP operations"'
    assert "x-request-id" not in flower_refused.headers
    assert flower.status_code == 200 and "Flower" in flower.text
    # Plain HTTP is sent to HTTPS.
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://127.0.0.1/login?next=x"
