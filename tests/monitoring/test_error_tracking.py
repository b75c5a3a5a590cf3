"""Sentry: off without a DSN; with one, errors reach it tagged and without secrets."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk

from tests.support.emulators import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk_test_kept0ut0fSentry42"


class _Collector(BaseHTTPRequestHandler):
    """Takes Sentry envelopes as the Sentry server would."""

    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":  # Sentry's choice whenever brotli is installed
            import brotli

            body = brotli.decompress(body)
        for line in body.splitlines():
            item = json.loads(line)
            if "level" in item or "exception" in item:  # an event, not a header
                self.received.append(item)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture()
def sentry_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://publickey@127.0.0.1:{server.server_port}/1", received
    server.shutdown()


def test_without_a_dsn_error_tracking_is_not_started(app: object) -> None:
    assert not sentry_sdk.is_initialized()


def test_with_a_dsn_an_unhandled_error_is_sent_tagged_and_scrubbed(
    sentry_server: tuple[str, list[dict[str, Any]]],
) -> None:
    dsn, received = sentry_server
    code = (
        "import sentry_sdk\n"
        "from app import create_app\n"
        "from config import config_for\n"
        "app = create_app(config_for('test'))\n"
        "app.config['PROPAGATE_UNEXPECTED'] = False\n"
        "@app.get('/explode')\n"
        "def explode():\n"
        "    raise RuntimeError('charge failed with key ' + app.config['STRIPE_SECRET_KEY'])\n"
        "response = app.test_client().get('/explode', headers={'X-Request-ID': 'req-sentry-1'})\n"
        "print(response.status_code)\n"
        "sentry_sdk.flush(10)\n"
    )
    env = {**os.environ, "SENTRY_DSN": dsn, "STRIPE_SECRET_KEY": SECRET}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True
    )
    assert run.stdout.decode().strip() == "500"
    assert received, run.stderr.decode()[-2000:]
    event = received[0]
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["environment"] == "test"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    sent = json.dumps(received)
    assert SECRET not in sent
    assert "charge failed with key [redacted]" in sent
