"""What the agent on each machine calls: no cookies, its own per-machine bearer token."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from app.errors import Unauthorized
from app.schemas.agent import HeartbeatRecordedSchema, HeartbeatSchema
from app.services import agent

blp = Blueprint("agent", __name__, url_prefix="/api/agent", description="Machine agent")


@blp.route("/heartbeat", methods=["POST"])
@blp.arguments(HeartbeatSchema)
@blp.response(200, HeartbeatRecordedSchema)
def heartbeat(body: dict[str, Any]) -> Any:
    """Active Remote Desktop sessions on a machine, sent by its agent every few minutes."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send the machine's agent token as a Bearer token.")
    return agent.record_heartbeat(
        body["instance_id"], token.strip(), body["sessions"], body["agent_version"]
    )
