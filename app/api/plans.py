"""The public plan catalogue."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.schemas.instances import PlanListSchema
from app.services import catalog

blp = Blueprint("plans", __name__, url_prefix="/api/plans", description="Catalogue")


@blp.route("", methods=["GET"])
@blp.response(200, PlanListSchema)
def list_plans() -> dict[str, Any]:
    """Plans with price, specs and regions."""
    return {"plans": catalog.active_plans()}
