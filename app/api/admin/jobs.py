"""Failed and stuck jobs across the platform: retry or abandon, with a reason."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from app.auth import require_admin, require_staff
from app.schemas.admin import (
    AdminJobEnvelopeSchema,
    AdminJobPageSchema,
    JobSearchArgsSchema,
    ReasonSchema,
)
from app.services import admin_jobs

blp = Blueprint("admin_jobs", __name__, url_prefix="/api/admin/jobs", description="Admin: jobs")


@blp.route("", methods=["GET"])
@blp.arguments(JobSearchArgsSchema, location="query")
@blp.response(200, AdminJobPageSchema)
@require_staff
def search(args: dict[str, Any]) -> Any:
    """Failed jobs nobody handled yet, or jobs stuck now; newest first (staff)."""
    return admin_jobs.search(args["state"], args["page"], args["per_page"])


@blp.route("/<int:job_id>/retry", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(202, AdminJobEnvelopeSchema)
@require_staff
def retry(body: dict[str, str], job_id: int) -> dict[str, Any]:
    """Send a stuck job again, or start a failed one again; answers the job doing the
    work (staff)."""
    return {"job": admin_jobs.retry(current_user, job_id, body["reason"])}


@blp.route("/<int:job_id>/abandon", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, AdminJobEnvelopeSchema)
@require_admin
def abandon(body: dict[str, str], job_id: int) -> dict[str, Any]:
    """Fail a stuck job (its machine put back) or set a failed one aside (admin)."""
    return {"job": admin_jobs.abandon(current_user, job_id, body["reason"])}
