"""Background jobs, for following an action to its end."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import Blueprint

from app.schemas.instances import JobSchema
from app.services import jobs

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Jobs")


@blp.route("/<int:job_id>", methods=["GET"])
@blp.response(200, JobSchema)
@login_required
def get_job(job_id: int) -> Any:
    """One of the caller's jobs."""
    return jobs.get_for(current_user, job_id)
