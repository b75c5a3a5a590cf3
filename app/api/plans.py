"""The public plan catalogue."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app import cache
from app.schemas.instances import OrderablePlanSchema, PlanListSchema
from app.services import catalog

blp = Blueprint("plans", __name__, url_prefix="/api/plans", description="Catalogue")


@blp.route("", methods=["GET"])
@blp.response(200, PlanListSchema)
def list_plans() -> dict[str, Any]:
    """Plans open to new orders, with price, specs and open regions (cached until the
    catalogue changes)."""
    return {"plans": cache.get_or_load(catalog.CACHE_NAMESPACE, "active", _dump_active_plans)}


def _dump_active_plans() -> list[dict[str, Any]]:
    return OrderablePlanSchema(many=True).dump(catalog.orderable_plans())
