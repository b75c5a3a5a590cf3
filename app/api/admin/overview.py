"""The console's first page: the business at a glance."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.auth import require_staff
from app.schemas.admin import OverviewSchema
from app.services import admin_overview

blp = Blueprint(
    "admin_overview", __name__, url_prefix="/api/admin/overview", description="Admin: overview"
)


@blp.route("", methods=["GET"])
@blp.response(200, OverviewSchema)
@require_staff
def overview() -> dict[str, Any]:
    """Customers, machines, recurring revenue, the last day, queues, health, tickets and
    90 days of revenue and active machines (staff)."""
    return admin_overview.report()
