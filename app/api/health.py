"""Liveness and dependency health for operators and load balancers."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.schemas.health import HealthSchema
from app.services import health

blp = Blueprint("health", __name__, url_prefix="/api", description="Operations")


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
def get_health() -> tuple[dict[str, Any], int]:
    """State of the database and Redis, with per-check latency; 503 when unhealthy."""
    result = health.report()
    return result, 200 if result["status"] == health.HEALTHY else 503
