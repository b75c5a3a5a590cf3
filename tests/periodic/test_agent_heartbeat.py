"""The in-guest agent: its token minted at provisioning and written only into the user
data, heartbeats authenticated by that token, and the Linux script run for real."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.models import AuditEvent, Instance, Job
from app.models.base import utcnow
from app.services import agent
from devtools.emulators.core import BackgroundServer
from tests.periodic.conftest import ago, set_instance
from tests.support.api import Customer, error_of, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle
from tests.support.factories import label_of, make_instance

ROOT = Path(__file__).resolve().parents[2]
LINUX_AGENT = ROOT / "agent" / "linux" / "nemordp-agent.sh"


def _with_token(database: Database, instance_id: int) -> str:
    """Give the machine an agent token, as provisioning does; the token."""
    token = "nrag_" + secrets.token_urlsafe(32)
    set_instance(database, instance_id, agent_token_digest=agent.token_digest(token))
    return token


def _beat(client: FlaskClient, instance_id: int, token: str, sessions: int = 1) -> TestResponse:
    return client.post(
        "/api/agent/heartbeat",
        json={"instance_id": instance_id, "sessions": sessions, "agent_version": "1.0.0"},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_a_heartbeat_with_sessions_records_the_last_access(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    owner = Customer(client)
    instance = make_instance(database, owner.id)
    token = _with_token(database, instance.id)

    response = _beat(app.test_client(), instance.id, token, sessions=2)

    assert response.status_code == 200, response.get_json()
    stored = database.get(Instance, instance.id)
    assert stored is not None and stored.agent_version == "1.0.0"
    assert stored.last_heartbeat_at is not None and stored.last_accessed is not None
    assert token not in json.dumps(response.get_json())
    assert stored.agent_token_digest == hashlib.sha256(token.encode()).hexdigest()


def test_a_heartbeat_without_sessions_keeps_the_last_access(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    owner = Customer(client)
    instance = make_instance(database, owner.id)
    token = _with_token(database, instance.id)
    last_session = ago(hours=2)
    set_instance(database, instance.id, last_accessed=last_session)

    assert _beat(app.test_client(), instance.id, token, sessions=0).status_code == 200

    stored = database.get(Instance, instance.id)
    assert stored is not None and stored.last_accessed == last_session
    assert stored.last_heartbeat_at is not None and stored.last_heartbeat_at > last_session


def test_a_wrong_or_another_machines_token_is_refused_and_nothing_recorded(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    owner = Customer(client)
    mine = make_instance(database, owner.id)
    other = make_instance(database, owner.id)
    _with_token(database, mine.id)
    others_token = _with_token(database, other.id)
    anonymous = app.test_client()

    for token in (others_token, "nrag_guessed", others_token[:-1]):
        response = _beat(anonymous, mine.id, token)
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthorized"
    assert _beat(anonymous, 999_999, others_token).status_code == 401
    missing = anonymous.post("/api/agent/heartbeat", json={"instance_id": mine.id, "sessions": 1})
    assert missing.status_code == 401
    # A signed-in customer's own session or API token is no agent token either.
    assert (
        owner.post("/api/agent/heartbeat", json={"instance_id": mine.id, "sessions": 1}).status_code
        == 401
    )

    for instance_id in (mine.id, other.id):
        stored = database.get(Instance, instance_id)
        assert stored is not None
        assert stored.last_heartbeat_at is None and stored.last_accessed is None


def test_a_malformed_heartbeat_names_the_field(app: Flask, database: Database) -> None:
    anonymous = app.test_client()
    for body, field in (
        ({"sessions": 1}, "instance_id"),
        ({"instance_id": 1, "sessions": -1}, "sessions"),
        ({"instance_id": 1, "sessions": "many"}, "sessions"),
        ({"instance_id": 1, "sessions": 1, "agent_version": "x" * 40}, "agent_version"),
    ):
        response = anonymous.post(
            "/api/agent/heartbeat", json=body, headers={"Authorization": "Bearer nrag_x"}
        )
        assert response.status_code == 422, body
        assert field in error_of(response)["fields"]


# -- the Linux agent, run for real ---------------------------------------------------------
@pytest.fixture()
def served_app(app: Flask) -> Iterator[str]:
    server = BackgroundServer(app).start()
    yield server.url
    server.stop()


def _run_linux_agent(
    tmp_path: Path, api_url: str, instance_id: int, token: str, sessions_command: str
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "agent.conf"
    config.write_text(
        f"NEMORDP_API_URL='{api_url}'\nNEMORDP_INSTANCE_ID='{instance_id}'\n"
        f"NEMORDP_AGENT_TOKEN='{token}'\n"
    )
    config.chmod(0o600)
    return subprocess.run(
        ["bash", str(LINUX_AGENT)],
        env={
            "PATH": "/usr/bin:/bin",
            "NEMORDP_AGENT_CONFIG": str(config),
            "NEMORDP_SESSION_COMMAND": sessions_command,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_linux_agent_reports_sessions_to_the_live_api(
    app: Flask, client: FlaskClient, database: Database, served_app: str, tmp_path: Path
) -> None:
    owner = Customer(client)
    instance = make_instance(database, owner.id)
    token = _with_token(database, instance.id)

    quiet = _run_linux_agent(tmp_path, served_app, instance.id, token, "echo 0")
    assert quiet.returncode == 0, quiet.stderr
    stored = database.get(Instance, instance.id)
    assert stored is not None and stored.last_heartbeat_at is not None
    assert stored.last_accessed is None and stored.agent_version == "1.0.0"

    busy = _run_linux_agent(tmp_path, served_app, instance.id, token, "printf '2\\n'")
    assert busy.returncode == 0, busy.stderr
    stored = database.get(Instance, instance.id)
    assert stored is not None and stored.last_accessed is not None


def test_the_linux_agent_with_a_wrong_token_fails_and_records_nothing(
    app: Flask, client: FlaskClient, database: Database, served_app: str, tmp_path: Path
) -> None:
    owner = Customer(client)
    instance = make_instance(database, owner.id)
    _with_token(database, instance.id)

    result = _run_linux_agent(tmp_path, served_app, instance.id, "nrag_wrong", "echo 3")

    assert result.returncode != 0 and "401" in result.stderr
    stored = database.get(Instance, instance.id)
    assert stored is not None and stored.last_heartbeat_at is None


# -- provisioning installs the agent with its token ----------------------------------------
def _provision(app: Flask, database: Database, user_id: int, os_type: str) -> int:
    """An order as the payment webhook leaves it: provisioning, its job sent to the worker."""
    instance = make_instance(
        database,
        user_id,
        status="provisioning",
        os_type=os_type,
        provider_id=None,
        ip_address=None,
        username="nemordp" if os_type == "linux" else "Administrator",
    )
    job = Job(
        kind="provision",
        instance_id=instance.id,
        user_id=user_id,
        state="queued",
        from_status="provisioning",
        deadline_at=utcnow() + timedelta(minutes=5),
        context={},
    )
    database.add(job)
    app.extensions["celery"].send_task("provisioning.create_machine", args=[job.id])
    return job.id


def _user_data(vultr: EmulatorHandle, label: str) -> str:
    machine = next(m for m in vultr.machines() if m["label"] == label)
    user_data: str = machine["user_data"]
    return user_data


@pytest.mark.parametrize("os_type", ["linux", "windows"])
def test_provisioning_installs_the_agent_with_a_token_only_the_machine_holds(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle, os_type: str
) -> None:
    owner = Customer(client)
    job_id = _provision(app, database, owner.id, os_type)
    assert wait_for_job(owner, job_id)["state"] == "succeeded"
    instance = database.scalar(select(Instance))
    assert instance is not None and instance.agent_token_digest is not None

    user_data = _user_data(vultr, label_of(instance))
    if os_type == "linux":
        assert "nemordp-agent.timer" in user_data
        encoded = re.findall(r"content: (\S+)", user_data)
        files = [base64.b64decode(e).decode() for e in encoded]
        config = next(f for f in files if f.startswith("NEMORDP_API_URL="))
        token = re.search(r"NEMORDP_AGENT_TOKEN=(\S+)", config).group(1)  # type: ignore[union-attr]
        assert f"NEMORDP_INSTANCE_ID={instance.id}" in config
        assert any("OnUnitActiveSec=5min" in f for f in files)
    else:
        assert "Register-ScheduledTask" in user_data and "quser" not in user_data
        blobs = re.findall(r"FromBase64String\('([^']+)'\)", user_data)
        decoded = [base64.b64decode(b).decode() for b in blobs]
        assert any("quser.exe" in d for d in decoded)
        settings = json.loads(next(d for d in decoded if d.startswith("{")))
        assert settings["instance_id"] == instance.id
        token = settings["token"]
    assert hashlib.sha256(token.encode()).hexdigest() == instance.agent_token_digest
    # The token appears nowhere else: not in the audit trail, not in any job.
    assert token not in json.dumps([e.details for e in database.scalars(select(AuditEvent))])
    assert _beat(app.test_client(), instance.id, token, sessions=1).status_code == 200
