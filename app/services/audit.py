"""The audit trail of sensitive actions."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request

from app.extensions import db
from app.models import AuditEvent


def record(action: str, user_id: int | None, **details: Any) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    event = AuditEvent(action=action, user_id=user_id, details=details)
    if has_request_context():
        event.ip_address = request.remote_addr
        event.request_id = g.get("request_id")
    db.session.add(event)
    return event
