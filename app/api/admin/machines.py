"""Every machine: filter, look at one and its jobs, act on it with a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from app.auth import require_admin, require_staff
from app.schemas.admin import (
    AdminInstancePageSchema,
    AdminInstanceSchema,
    AdminJobEnvelopeSchema,
    AdminJobListSchema,
    MachineSearchArgsSchema,
    ReasonSchema,
)
from app.services import admin_machines
from app.services.admin_machines import MachineFilter
from app.services.lifecycle import JobKind

blp = Blueprint(
    "admin_instances", __name__, url_prefix="/api/admin/instances", description="Admin: machines"
)


@blp.route("", methods=["GET"])
@blp.arguments(MachineSearchArgsSchema, location="query")
@blp.response(200, AdminInstancePageSchema)
@require_staff
def search(args: dict[str, Any]) -> Any:
    """Every machine, newest first, by status, provider, region, plan, owner, idle or
    failing (staff)."""
    page, per_page = args.pop("page"), args.pop("per_page")
    return admin_machines.search(MachineFilter(**args), page, per_page)


@blp.route("/<int:instance_id>", methods=["GET"])
@blp.response(200, AdminInstanceSchema)
@require_staff
def detail(instance_id: int) -> Any:
    """One machine (never its credentials) (staff)."""
    return admin_machines.get(instance_id)


@blp.route("/<int:instance_id>/jobs", methods=["GET"])
@blp.response(200, AdminJobListSchema)
@require_staff
def jobs(instance_id: int) -> dict[str, Any]:
    """The machine's jobs with their errors, newest first (staff)."""
    return {"jobs": admin_machines.jobs_of(instance_id)}


# The actions on a machine: each a POST to /<id>/<action> taking a reason and answering the
# job that does it; who may, and what the action does, as its documentation says.
ACTIONS: tuple[tuple[JobKind, Callable[[Any], Any], str], ...] = (
    (JobKind.RESTART, require_staff, "Restart the machine (staff)."),
    (JobKind.STOP, require_staff, "Shut the machine down (staff)."),
    (JobKind.START, require_staff, "Power the machine on, stopped or suspended (staff)."),
    (
        JobKind.TERMINATE,
        require_admin,
        "Destroy the machine; its subscription ends with it (admin).",
    ),
)


def _action_route(action: JobKind, authorise: Callable[[Any], Any], summary: str) -> None:
    def act(body: dict[str, str], instance_id: int) -> dict[str, Any]:
        return {"job": admin_machines.act(current_user, instance_id, action, body["reason"])}

    act.__name__ = act.__qualname__ = action.value
    act.__doc__ = summary
    view = blp.response(202, AdminJobEnvelopeSchema)(authorise(act))
    blp.route(f"/<int:instance_id>/{action.value}", methods=["POST"])(
        blp.arguments(ReasonSchema)(view)
    )


for _action in ACTIONS:
    _action_route(*_action)
