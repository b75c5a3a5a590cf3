"""Machines reconciliation kept for an operator: adopt, or approve their destruction."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from app.auth import require_admin
from app.models import FindingDecision
from app.schemas.admin import FindingArgsSchema, FindingPageSchema, FindingSchema, ReasonSchema
from app.services import admin_reconcile

blp = Blueprint(
    "admin_reconciliation",
    __name__,
    url_prefix="/api/admin/reconciliation",
    description="Admin: reconciliation",
)


@blp.route("/findings", methods=["GET"])
@blp.arguments(FindingArgsSchema, location="query")
@blp.response(200, FindingPageSchema)
@require_admin
def findings(args: dict[str, Any]) -> Any:
    """What the last passes kept (orphans a guard held back), open ones first (admin)."""
    return admin_reconcile.search(args["open"], args["page"], args["per_page"])


@blp.route("/findings/<int:finding_id>/adopt", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, FindingSchema)
@require_admin
def adopt(body: dict[str, str], finding_id: int) -> Any:
    """Keep the machine for good: never destroyed nor reported again (admin)."""
    return admin_reconcile.decide(current_user, finding_id, FindingDecision.KEEP, body["reason"])


@blp.route("/findings/<int:finding_id>/destroy", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, FindingSchema)
@require_admin
def destroy(body: dict[str, str], finding_id: int) -> Any:
    """Approve the machine's destruction by the next pass, whatever the guards (admin)."""
    return admin_reconcile.decide(current_user, finding_id, FindingDecision.DESTROY, body["reason"])
