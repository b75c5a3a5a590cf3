"""Liveness and dependency health for operators and load balancers."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.schemas.health import HealthSchema
from app.services import health

blp = Blueprint("health", __name__, url_prefix="/api", description="Operations")


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database or Redis is down")
def get_health() -> tuple[dict[str, Any], int]:
    """State of each dependency with its latency; 503 when unhealthy, 200 when degraded."""
    result = health.report()
    return result, 503 if result["status"] == health.UNHEALTHY else 200
