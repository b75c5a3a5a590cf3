"""Operators' decisions on the machines reconciliation kept (`ReconcileFinding`): adopt one
(kept for good, never destroyed nor reported again) or approve its destruction (the next
pass destroys it, whatever the guards). One finding at a time, each with a reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import FindingDecision, ReconcileFinding, User
from app.services import admin_audit, reconcile
from app.services.pagination import Page, paginate

ACTIONS = {
    FindingDecision.KEEP: "finding_adopted",
    FindingDecision.DESTROY: "finding_destroy_approved",
}


def search(open_only: bool, page: int, per_page: int) -> Page[ReconcileFinding]:
    """Findings, open ones (undecided or awaiting their destruction) first."""
    query = select(ReconcileFinding)
    if open_only:
        query = query.where(ReconcileFinding.resolved_at.is_(None))
    ordered = query.order_by(
        ReconcileFinding.resolved_at.is_not(None),
        ReconcileFinding.first_seen_at.desc(),
        ReconcileFinding.id.desc(),
    )
    return paginate(ordered, page, per_page)


def _state(finding: ReconcileFinding) -> dict[str, Any]:
    return {"decision": finding.decision, "resolution": finding.resolution}


def decide(
    actor: User, finding_id: int, decision: FindingDecision, reason: str
) -> ReconcileFinding:
    """Record the operator's decision on one open, undecided finding."""
    finding = db.session.scalar(
        select(ReconcileFinding).where(ReconcileFinding.id == finding_id).with_for_update()
    )
    if finding is None:
        raise NotFound("No such finding.")
    if finding.resolved_at is not None or finding.decision is not None:
        raise Conflict("This finding was already decided or resolved.")
    before = _state(finding)
    admin_audit.record(
        actor,
        ACTIONS[decision],
        finding,
        reason=reason,
        before=before,
        after={
            "decision": str(decision),
            "provider": finding.provider,
            "provider_id": finding.provider_id,
            "label": finding.label,
        },
    )
    return reconcile.decide(finding.id, decision, actor.id)  # commits
