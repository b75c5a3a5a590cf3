"""The console through deploy/nginx/nemordp.conf: nginx upgrades /console/ to a WebSocket
and forwards it to the gateway started by nemordp-console.service's own command line, over
HTTPS, and the access log never holds a ticket."""

from __future__ import annotations

import json
import os
import shlex
import ssl
from pathlib import Path

import pytest
from flask import Flask
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

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
from tests.deploy.test_nginx_site import _serving


def _gateway_command(port: int) -> list[str]:
    line = exec_start(DEPLOY / "systemd" / "nemordp-console.service")
    line = expand(
        line.replace(INSTALLED_NEMORDP, str(NEMORDP)), {"CONSOLE_BIND": f"127.0.0.1:{port}"}
    )
    return shlex.split(line)


def test_nginx_forwards_the_console_websocket_to_the_gateway(
    app: Flask, nginx: str, certificate: tuple[Path, Path], shared_tmp: Path
) -> None:
    gateway_port, http_port, https_port = (_free_port() for _ in range(3))
    site = replace_each(
        site_with_certificate(certificate),
        {
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "    listen [::]:80;\n": "",
            "    listen [::]:443 ssl http2;\n": "",
            "server 127.0.0.1:8765;": f"server 127.0.0.1:{gateway_port};",
        },
    )
    conf = nginx_conf(shared_tmp, site)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
    }
    ticket = "a-ticket-nobody-issued-" + "x" * 20
    with _serving(
        (_gateway_command(gateway_port), gateway_port, shared_tmp / "console.log"),
        (nginx_command(nginx, conf, "-g", "daemon off;"), https_port, shared_tmp / "nginx.log"),
        env=env,
    ):
        trust = ssl.create_default_context(cafile=str(certificate[0]))
        with connect(
            f"wss://127.0.0.1:{https_port}/console/", ssl=trust, open_timeout=10
        ) as socket:
            socket.send(ticket)
            answer = json.loads(socket.recv(timeout=10))
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=10)
    # The gateway answered through nginx: it read Redis, found no such ticket, and said so.
    assert answer == {"type": "closed", "reason": "The console link has expired."}
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    access_log = (shared_tmp / "access.log").read_text()
    assert 'GET /console/ HTTP/1.1" 101' in access_log
    assert ticket not in access_log
