"""Customers' machines: order, list, act on, connect to."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_login import current_user, login_required
from flask_smorest import Blueprint

from app.api.account import NO_STORE
from app.schemas.instances import (
    CredentialsSchema,
    InstancePageSchema,
    InstanceSchema,
    JobEnvelopeSchema,
    JobListSchema,
    OrderedSchema,
    OrderSchema,
    PageArgsSchema,
    ReinstallSchema,
)
from app.schemas.usage import UsageArgsSchema, UsageWithSeriesSchema
from app.services import instances, reinstall
from app.services import usage as traffic

blp = Blueprint("instances", __name__, url_prefix="/api/instances", description="Machines")


@blp.route("", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, InstancePageSchema)
@login_required
def list_instances(args: dict[str, int]) -> Any:
    """The caller's machines, newest first."""
    return instances.list_for(current_user, args["page"], args["per_page"])


@blp.route("", methods=["POST"])
@blp.arguments(OrderSchema)
@blp.response(202, OrderedSchema)
@login_required
def order_instance(body: dict[str, Any]) -> dict[str, Any]:
    """Order a machine: answers its payment page; once paid, provisioning runs as a job."""
    instance = instances.order(
        current_user, body["plan"], body["os_type"], body["region"], body["ssh_key_ids"] or ()
    )
    return {"instance": instance, "checkout_url": instance.checkout_url}


@blp.route("/<int:instance_id>/jobs", methods=["GET"])
@blp.response(200, JobListSchema)
@login_required
def list_jobs(instance_id: int) -> dict[str, Any]:
    """The machine's recent jobs, newest first (to follow one while it runs)."""
    return {"jobs": instances.jobs_of(current_user, instance_id)}


@blp.route("/<int:instance_id>", methods=["GET"])
@blp.response(200, InstanceSchema)
@login_required
def get_instance(instance_id: int) -> Any:
    """One machine."""
    return instances.get_for(current_user, instance_id)


@blp.route("/<int:instance_id>", methods=["DELETE"])
@blp.response(202, JobEnvelopeSchema)
@login_required
def terminate_instance(instance_id: int) -> dict[str, Any]:
    """Terminate a machine: destroyed at the provider by a job."""
    return {"job": instances.request_action(current_user, instance_id, "terminate")}


@blp.route("/<int:instance_id>/restart", methods=["POST"])
@blp.response(202, JobEnvelopeSchema)
@login_required
def restart_instance(instance_id: int) -> dict[str, Any]:
    """Restart a machine (a second request gets the restart already under way)."""
    return {"job": instances.request_action(current_user, instance_id, "restart")}


@blp.route("/<int:instance_id>/stop", methods=["POST"])
@blp.response(202, JobEnvelopeSchema)
@login_required
def stop_instance(instance_id: int) -> dict[str, Any]:
    """Shut a machine down."""
    return {"job": instances.request_action(current_user, instance_id, "stop")}


@blp.route("/<int:instance_id>/start", methods=["POST"])
@blp.response(202, JobEnvelopeSchema)
@login_required
def start_instance(instance_id: int) -> dict[str, Any]:
    """Power a stopped machine on."""
    return {"job": instances.request_action(current_user, instance_id, "start")}


@blp.route("/<int:instance_id>/reinstall", methods=["POST"])
@blp.arguments(ReinstallSchema)
@blp.response(202, JobEnvelopeSchema)
@login_required
def reinstall_instance(body: dict[str, Any], instance_id: int) -> dict[str, Any]:
    """Reinstall a machine with a chosen system: everything on its disk is erased, and it
    gets new credentials. ``confirm`` is the machine's name, typed."""
    job = reinstall.request(
        current_user, instance_id, body["os"], body["confirm"], body["ssh_key_ids"]
    )
    return {"job": job}


@blp.route("/<int:instance_id>/rdp-file", methods=["GET"])
@blp.response(200, content_type="application/x-rdp")
@login_required
def rdp_file(instance_id: int) -> Response:
    """A Remote Desktop connection file for an active machine."""
    content = instances.rdp_file(current_user, instance_id)
    return Response(
        content,
        mimetype="application/x-rdp",
        headers={"Content-Disposition": f'attachment; filename="nemordp-{instance_id}.rdp"'},
    )


@blp.route("/<int:instance_id>/credentials", methods=["GET"])
@blp.response(200, CredentialsSchema)
@login_required
def credentials(instance_id: int) -> tuple[dict[str, str], int, dict[str, str]]:
    """Username and password of the machine (audited, never cached)."""
    return instances.credentials(current_user, instance_id), 200, NO_STORE


@blp.route("/<int:instance_id>/usage", methods=["GET"])
@blp.arguments(UsageArgsSchema, location="query")
@blp.response(200, UsageWithSeriesSchema)
@login_required
def usage(args: dict[str, int], instance_id: int) -> dict[str, object]:
    """Uptime, last access, data transfer, and daily traffic over the last ``days`` days."""
    figures = instances.usage(current_user, instance_id)  # 404 unless the caller's
    return {**figures, "series": traffic.series(instance_id, args["days"])}
