"""Every machine: filter, look at one and its jobs, act on it with a reason."""

from __future__ import annotations

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


def _act(instance_id: int, action: JobKind, reason: str) -> dict[str, Any]:
    return {"job": admin_machines.act(current_user, instance_id, action, reason)}


@blp.route("/<int:instance_id>/restart", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(202, AdminJobEnvelopeSchema)
@require_staff
def restart(body: dict[str, str], instance_id: int) -> dict[str, Any]:
    """Restart the machine (staff)."""
    return _act(instance_id, JobKind.RESTART, body["reason"])


@blp.route("/<int:instance_id>/stop", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(202, AdminJobEnvelopeSchema)
@require_staff
def stop(body: dict[str, str], instance_id: int) -> dict[str, Any]:
    """Shut the machine down (staff)."""
    return _act(instance_id, JobKind.STOP, body["reason"])


@blp.route("/<int:instance_id>/start", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(202, AdminJobEnvelopeSchema)
@require_staff
def start(body: dict[str, str], instance_id: int) -> dict[str, Any]:
    """Power the machine on, stopped or suspended (staff)."""
    return _act(instance_id, JobKind.START, body["reason"])


@blp.route("/<int:instance_id>/terminate", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(202, AdminJobEnvelopeSchema)
@require_admin
def terminate(body: dict[str, str], instance_id: int) -> dict[str, Any]:
    """Destroy the machine; its subscription ends with it (admin)."""
    return _act(instance_id, JobKind.TERMINATE, body["reason"])
