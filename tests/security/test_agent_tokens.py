"""Agent tokens and API tokens are not interchangeable, and a terminated machine's agent is
heard no more. (Wrong, missing and another machine's agent tokens are refused in
tests/periodic/test_agent_heartbeat.py.)"""

from __future__ import annotations

import secrets

from flask import Flask

from app.models import Instance
from app.services import agent
from tests.periodic.conftest import set_instance
from tests.security.world import World
from tests.support.database import Database


def _machine_token(database: Database, instance_id: int) -> str:
    """Give the machine an agent token, as provisioning does."""
    token = agent.TOKEN_PREFIX + secrets.token_urlsafe(32)
    set_instance(database, instance_id, agent_token_digest=agent.token_digest(token))
    return token


def _heard(database: Database, instance_id: int) -> bool:
    instance = database.get(Instance, instance_id)
    assert instance is not None
    return instance.last_heartbeat_at is not None


def test_an_api_token_is_no_agent_token_and_an_agent_token_opens_no_api(
    app: Flask, world: World, database: Database
) -> None:
    machine_token = _machine_token(database, world.instance_id)
    client = app.test_client()
    beat = {"instance_id": world.instance_id, "sessions": 1}

    as_api_token = client.post(
        "/api/agent/heartbeat", json=beat, headers={"Authorization": f"Bearer {world.api_token}"}
    )
    assert as_api_token.status_code == 401
    assert not _heard(database, world.instance_id)

    for path in ("/api/auth/me", "/api/instances", f"/api/instances/{world.instance_id}"):
        response = client.get(path, headers={"Authorization": f"Bearer {machine_token}"})
        assert response.status_code == 401, path
    credentials = f"/api/instances/{world.instance_id}/credentials"
    assert (
        client.get(credentials, headers={"Authorization": f"Bearer {machine_token}"}).status_code
        == 401
    )

    heard = client.post(
        "/api/agent/heartbeat", json=beat, headers={"Authorization": f"Bearer {machine_token}"}
    )
    assert heard.status_code == 200
    assert _heard(database, world.instance_id)


def test_a_terminated_machines_agent_is_refused(
    app: Flask, world: World, database: Database
) -> None:
    machine_token = _machine_token(database, world.instance_id)
    set_instance(database, world.instance_id, status="terminated")
    response = app.test_client().post(
        "/api/agent/heartbeat",
        json={"instance_id": world.instance_id, "sessions": 2},
        headers={"Authorization": f"Bearer {machine_token}"},
    )
    assert response.status_code == 401
    assert not _heard(database, world.instance_id)
