"""The audit log: every action, filtered, and its CSV export."""

from __future__ import annotations

from typing import Any

from flask import Response, stream_with_context
from flask_smorest import Blueprint

from app.auth import require_admin
from app.schemas.admin import AuditArgsSchema, AuditPageSchema
from app.services import admin_audit
from app.services.admin_audit import AuditFilter

blp = Blueprint("admin_audit", __name__, url_prefix="/api/admin/audit", description="Admin: audit")


def _filter(args: dict[str, Any]) -> AuditFilter:
    return AuditFilter(**{k: v for k, v in args.items() if k not in ("page", "per_page")})


@blp.route("", methods=["GET"])
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditPageSchema)
@require_admin
def search(args: dict[str, Any]) -> Any:
    """Audit events, newest first, by actor, action, target, customer and time (admin)."""
    return admin_audit.search(_filter(args), args["page"], args["per_page"])


@blp.route("/export", methods=["GET"])
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, content_type="text/csv")
@require_admin
def export(args: dict[str, Any]) -> Response:
    """The same events as CSV, every match (page arguments ignored) (admin)."""
    rows = admin_audit.export_csv(_filter(args))
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="nemordp-audit.csv"'},
    )
