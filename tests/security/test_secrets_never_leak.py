"""Secrets never appear in logs, error bodies, task arguments or metrics.

One representative run, end to end against the real worker, the Vultr emulator and the local
Stripe: sign-up, log-in, a failed log-in, two-factor enrolment and a log-in with a recovery
code, an API token created and used, an order paid and provisioned, the machine's
credentials viewed, the account exported, a password reset by e-mail. Meanwhile we capture
what the web app logs (as its production formatter writes it, and every raw record), the
part of the worker's log written during the run, every response body except those whose
purpose is to show a secret once, the task events Flower reads (arguments included), and
afterwards ``GET /metrics``. Every known secret is then searched for in all of it.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import secrets as random
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask, Response, request_finished
from flask.testing import FlaskClient

from app.logs import ContextFilter, RedactingJsonFormatter, Redactor
from app.models.instance import machine_label
from devtools.stack.platform import Web
from tests.periodic.test_task_arguments import TaskEvents
from tests.support.accounts import link_token, totp_code, wait_for_mail
from tests.support.api import PASSWORD, Customer, error_of, order, wait_for_job
from tests.support.emulators import EmulatorHandle, free_port, wait_until
from tests.support.mailbox import Mailbox

ROOT = Path(__file__).resolve().parents[2]
WORKER_LOG = ROOT / "test-artifacts" / "worker.log"
NEW_PASSWORD = "a brand new passphrase"
# The routes whose purpose is to show a secret once; their bodies are expected to hold one.
SHOWS_A_SECRET = {
    ("POST", "/api/auth/tokens"),  # the API token
    ("POST", "/api/account/2fa/setup"),  # the TOTP secret and its QR code
    ("POST", "/api/account/2fa/confirm"),  # the recovery codes
    ("POST", "/api/account/2fa/recovery-codes"),
    ("GET", "/api/instances/<int:instance_id>/credentials"),  # the machine's password
}
CONFIG_SECRETS = (
    "SECRET_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "VULTR_API_KEY",
    "CONTABO_CLIENT_SECRET",
    "CONTABO_API_PASSWORD",
)


@dataclass
class Capture:
    """Everything the run leaves where an operator, a log shipper or Flower can read it."""

    formatted_logs: io.StringIO = field(default_factory=io.StringIO)
    raw_records: list[str] = field(default_factory=list)
    bodies: list[tuple[str, str, int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, sender: Flask, response: Response, **_: Any) -> None:
        from flask import request

        rule = request.url_rule.rule if request.url_rule else request.path
        if (request.method, rule) in SHOWS_A_SECRET or response.is_streamed:
            return
        with self.lock:
            text = response.get_data(as_text=True)
            self.bodies.append((request.method, request.path, response.status_code, text))


class RawRecords(logging.Handler):
    """Each record's message with its arguments and extra fields, before any redaction."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(f"{record.getMessage()} {record.__dict__!r}")


@pytest.fixture()
def capture(app: Flask) -> Iterator[Capture]:
    captured = Capture()
    formatted = logging.StreamHandler(captured.formatted_logs)
    formatted.setFormatter(RedactingJsonFormatter(Redactor(app.config)))
    formatted.addFilter(ContextFilter())
    raw = RawRecords(captured.raw_records)
    root = logging.getLogger()
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(formatted)
    root.addHandler(raw)
    request_finished.connect(captured.record, app)
    yield captured
    request_finished.disconnect(captured.record, app)
    root.removeHandler(formatted)
    root.removeHandler(raw)
    root.setLevel(previous_level)


def _sign_in_with_recovery_code(client: FlaskClient, email: str, password: str, code: str) -> str:
    """Log in with two-factor on; the session's new CSRF token."""
    challenge = client.post("/api/auth/login", json={"email": email, "password": password})
    assert challenge.get_json()["two_factor_required"] is True
    wrong = client.post(
        "/api/auth/login/2fa",
        json={"challenge": challenge.get_json()["challenge"], "code": "000000"},
    )
    assert wrong.status_code in (401, 403, 422), wrong.get_json()
    signed_in = client.post(
        "/api/auth/login/2fa", json={"challenge": challenge.get_json()["challenge"], "code": code}
    )
    assert signed_in.status_code == 200, signed_in.get_json()
    csrf: str = signed_in.get_json()["csrf_token"]
    return csrf


def _agent_token(vultr: EmulatorHandle, label: str) -> str:
    """The agent token provisioning wrote into the machine's first-boot script."""
    machine = next(m for m in vultr.machines() if m["label"] == label)
    for blob in re.findall(r"[A-Za-z0-9+/=]{40,}", machine["user_data"]):
        decoded = base64.b64decode(blob + "=" * (-len(blob) % 4)).decode(errors="replace")
        found = re.search(r"nrag_[A-Za-z0-9_-]{20,}", decoded)
        if found:
            return found.group(0)
    found = re.search(r"nrag_[A-Za-z0-9_-]{20,}", machine["user_data"])
    assert found, "no agent token in the machine's user data"
    return found.group(0)


def _secret_run(
    app: Flask, client: FlaskClient, vultr: EmulatorHandle, inbox: Mailbox
) -> dict[str, str]:
    """Drive the representative run; every secret of a person or a machine it met, by name."""
    secrets: dict[str, str] = {"user password": PASSWORD, "new user password": NEW_PASSWORD}
    customer = Customer(client)
    customer.post("/api/auth/logout")
    refused = client.post(
        "/api/auth/login", json={"email": customer.email, "password": "wrong" * 3}
    )
    assert refused.status_code == 401 and error_of(refused)["code"] == "unauthorized"
    login = client.post("/api/auth/login", json={"email": customer.email, "password": PASSWORD})
    customer.csrf = login.get_json()["csrf_token"]

    setup = customer.post("/api/account/2fa/setup", json={"password": PASSWORD}).get_json()
    secrets["TOTP secret"] = setup["secret"]
    confirmed = customer.post("/api/account/2fa/confirm", json={"code": totp_code(setup["secret"])})
    codes = confirmed.get_json()["recovery_codes"]
    secrets.update({f"recovery code {n}": code for n, code in enumerate(codes)})
    customer.post("/api/auth/logout")
    customer.csrf = _sign_in_with_recovery_code(client, customer.email, PASSWORD, codes[0])

    created = customer.post("/api/auth/tokens", json={"name": "ci"}).get_json()
    secrets["API token"] = created["token"]
    bearer = app.test_client().get(
        "/api/auth/me", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert bearer.status_code == 200
    assert customer.get("/api/auth/tokens").status_code == 200

    ordered = order(customer)
    assert wait_for_job(customer, ordered["job"]["id"])["state"] == "succeeded"
    instance_id = ordered["instance"]["id"]
    credentials = customer.get(f"/api/instances/{instance_id}/credentials").get_json()
    secrets["machine password"] = credentials["password"]
    secrets["agent token"] = _agent_token(
        vultr, machine_label(os.environ["INSTALL_ID"], instance_id)
    )
    assert customer.get(f"/api/instances/{instance_id}/rdp-file").status_code == 200
    assert customer.get("/api/account/export").status_code == 200
    wrong_code = customer.post("/api/account/2fa/recovery-codes", json={"code": "123456"})
    assert wrong_code.status_code in (403, 422)

    anonymous = app.test_client()
    asked = anonymous.post("/api/account/password/reset", json={"email": customer.email})
    assert asked.status_code == 202
    reset_token = link_token(wait_for_mail(inbox, customer.email, "password"))
    secrets["password reset token"] = reset_token
    done = anonymous.post(
        "/api/account/password/reset/confirm", json={"token": reset_token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.get_json()
    replayed = anonymous.post(
        "/api/account/password/reset/confirm", json={"token": reset_token, "password": NEW_PASSWORD}
    )
    assert replayed.status_code == 400
    _sign_in_with_recovery_code(anonymous, customer.email, NEW_PASSWORD, codes[1])
    return secrets


def _config_secrets(app: Flask) -> dict[str, str]:
    secrets = {name: str(app.config[name]) for name in CONFIG_SECRETS}
    keys = app.config["ENCRYPTION_KEYS"].split(",")
    return secrets | {f"encryption key {n}": key for n, key in enumerate(keys)}


def _leaks(secrets: dict[str, str], where: str, text: str) -> list[str]:
    return [f"{name} in {where}" for name, secret in secrets.items() if secret in text]


def test_no_secret_reaches_logs_error_bodies_task_arguments_or_metrics(
    app: Flask,
    client: FlaskClient,
    vultr: EmulatorHandle,
    inbox: Mailbox,
    capture: Capture,
) -> None:
    worker_log_start = WORKER_LOG.stat().st_size
    with TaskEvents(app) as events:
        personal = _secret_run(app, client, vultr, inbox)
        time.sleep(1)  # the last task events are on their way
    secrets = personal | _config_secrets(app)
    worker_log = WORKER_LOG.read_bytes()[worker_log_start:].decode(errors="replace")
    metrics = app.test_client().get("/metrics")
    assert metrics.status_code == 200

    assert len(capture.bodies) > 20 and events.events, "the run was not captured"
    assert "provisioning.create_machine" in {e.get("name") for e in events.events}
    assert "Task " in worker_log, "the worker wrote nothing during the run"
    leaks = [
        *_leaks(secrets, "the web app's log output", capture.formatted_logs.getvalue()),
        *_leaks(secrets, "the worker's log", worker_log),
        *_leaks(secrets, "GET /metrics", metrics.get_data(as_text=True)),
        *_leaks(secrets, "task events (Flower)", json.dumps(events.events, default=str)),
    ]
    for method, path, status, body in capture.bodies:
        leaks += _leaks(secrets, f"the body of {method} {path} ({status})", body)
    # Redaction only knows the settings and secret-shaped text: the secrets of people and
    # machines must not even reach a log record.
    leaks += _leaks(personal, "a raw log record", "\n".join(capture.raw_records))
    assert leaks == []


def test_the_tokens_of_e_mailed_links_stay_out_of_the_access_log(
    tmp_path: Path, app: Flask
) -> None:
    """A reset or confirmation link carries its token in the query string: gunicorn, run with
    the production settings (gunicorn.conf.py), logs requests without it, and without the
    Referer that the page's own assets are fetched with (it holds the same URL)."""
    access_log = tmp_path / "access.log"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    options = ("--access-logfile", str(access_log))
    server = Web(free_port(), env, subprocess.DEVNULL, workers=1, options=options)
    server.start()
    try:
        tokens = [random.token_urlsafe(24) for _ in range(2)]
        for page, token in zip(("reset-password", "confirm-email"), tokens, strict=True):
            link = f"{server.url}/{page}?token={token}"
            assert httpx.get(link, timeout=10).status_code == 200
            asset = httpx.get(f"{server.url}/static/css/app.css", headers={"Referer": link})
            assert asset.status_code == 200
        wait_until(lambda: access_log.read_text().count("/static/css/app.css") == 2, 10)
    finally:
        server.stop()
    logged = access_log.read_text()
    assert "GET /reset-password" in logged and "GET /confirm-email" in logged
    assert [token for token in tokens if token in logged] == []
