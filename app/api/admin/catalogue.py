"""The catalogue: plans and regions open to new orders, and prices of new orders."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from app.auth import require_admin, require_staff
from app.schemas.admin import (
    AdminPlanListSchema,
    AdminPlanSchema,
    CatalogueSchema,
    PlanUpdateSchema,
    RegionUpdateSchema,
)
from app.services import admin_catalogue

blp = Blueprint(
    "admin_catalogue", __name__, url_prefix="/api/admin/catalogue", description="Admin: catalogue"
)

PRICE_NOTE = (
    "A price change applies to new orders only: existing subscriptions keep the price they "
    "were sold at."
)


@blp.route("", methods=["GET"])
@blp.response(200, CatalogueSchema)
@require_staff
def catalogue() -> dict[str, Any]:
    """Every plan with its price, regions, what is closed to new orders and its live
    machines (staff)."""
    return {"plans": admin_catalogue.plans(), "note": PRICE_NOTE}


@blp.route("/plans/<int:plan_id>", methods=["PATCH"])
@blp.arguments(PlanUpdateSchema)
@blp.response(200, AdminPlanSchema)
@require_admin
def update_plan(body: dict[str, Any], plan_id: int) -> Any:
    """Open or close a plan (or some of its regions) to new orders, or price it anew for
    new orders (admin)."""
    reason = body.pop("reason")
    return admin_catalogue.update_plan(current_user, plan_id, reason, **body)


@blp.route("/regions", methods=["POST"])
@blp.arguments(RegionUpdateSchema)
@blp.response(200, AdminPlanListSchema)
@require_admin
def set_region(body: dict[str, Any]) -> dict[str, Any]:
    """Open or close a region to new orders of every plan (admin)."""
    plans = admin_catalogue.set_region(current_user, body["region"], body["open"], body["reason"])
    return {"plans": plans}
