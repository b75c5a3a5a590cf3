"""The desktop in the browser: a single-use ticket for the console gateway."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import Blueprint

from app.api.account import NO_STORE
from app.schemas.console import ConsoleTicketSchema
from app.services import console

blp = Blueprint("console", __name__, url_prefix="/api/instances", description="Machines")


@blp.route("/<int:instance_id>/console", methods=["POST"])
@blp.response(201, ConsoleTicketSchema)
@login_required
def open_console(instance_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A ticket to the active machine's desktop: used once, within seconds (audited)."""
    return console.issue(current_user, instance_id), 201, NO_STORE
