"""The catalogue, for admins: close a plan or a region to new orders (machines that have
them keep running), and change a plan's price. A new price is a new Stripe price, used by
new orders only: existing subscriptions keep the price they were sold at. These choices
survive loading the catalogue file again (`catalog.load` leaves them alone)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app import cache
from app.errors import NotFound, ServiceUnavailable, ValidationFailed
from app.extensions import db
from app.models import Instance, InstanceStatus, Plan, User
from app.models.base import utcnow
from app.services import admin_audit, catalog, stripe_catalog
from app.services.stripe_gateway import stripe_errors
from workers.outside_errors import OutsideError

S = InstanceStatus
GONE = (S.TERMINATED, S.FAILED, S.PENDING_PAYMENT)


def plans() -> list[dict[str, Any]]:
    """Every plan in the catalogue with its live machine count."""
    counts = dict(
        db.session.execute(
            select(Instance.plan_id, func.count())
            .where(Instance.status.not_in(GONE))
            .group_by(Instance.plan_id)
        ).all()
    )
    listed = db.session.scalars(select(Plan).where(Plan.active).order_by(Plan.rank, Plan.id))
    return [{"plan": plan, "live_machines": counts.get(plan.id, 0)} for plan in listed]


def _state(plan: Plan) -> dict[str, Any]:
    return {
        "orderable": plan.orderable,
        "closed_regions": sorted(plan.closed_regions),
        "price_cents": plan.price_cents,
        "stripe_price_id": plan.stripe_price_id,
    }


def _get(plan_id: int) -> Plan:
    plan = db.session.scalar(select(Plan).where(Plan.id == plan_id, Plan.active).with_for_update())
    if plan is None:
        raise NotFound("Plan not found.")
    return plan


def update_plan(
    actor: User,
    plan_id: int,
    reason: str,
    *,
    orderable: bool | None = None,
    closed_regions: list[str] | None = None,
    price_cents: int | None = None,
) -> Plan:
    """Change what new orders of a plan may be: open or closed, in which regions, at what
    price. A price change creates the new Stripe price first; if Stripe cannot be reached,
    nothing changes."""
    plan = _get(plan_id)
    before = _state(plan)
    if orderable is not None:
        plan.orderable = orderable
    if closed_regions is not None:
        unknown = sorted(set(closed_regions) - set(plan.regions))
        if unknown:
            raise ValidationFailed(
                fields={"closed_regions": [f"Not regions of {plan.code}: {', '.join(unknown)}."]}
            )
        plan.closed_regions = sorted(set(closed_regions))
    if price_cents is not None and price_cents != plan.price_cents:
        plan.price_cents = price_cents
        plan.price_changed_at = utcnow()
        try:
            with stripe_errors():
                stripe_catalog.sync_plan(plan)
        except OutsideError:
            db.session.rollback()
            raise ServiceUnavailable("Stripe cannot be reached; the price is unchanged.") from None
    _changed(actor, plan, reason, before)
    return plan


def set_region(actor: User, region: str, open_: bool, reason: str) -> list[Plan]:
    """Open or close a region to new orders of every plan offered there."""
    offered = [
        plan
        for plan in db.session.scalars(select(Plan).where(Plan.active).with_for_update())
        if region in plan.regions
    ]
    if not offered:
        raise ValidationFailed(fields={"region": [f"No plan is offered in {region}."]})
    for plan in offered:
        before = _state(plan)
        closed = set(plan.closed_regions)
        plan.closed_regions = sorted(closed - {region} if open_ else closed | {region})
        if plan.closed_regions != before["closed_regions"]:
            _changed(actor, plan, reason, before, commit=False)
    db.session.commit()
    return offered


def _changed(
    actor: User, plan: Plan, reason: str, before: dict[str, Any], *, commit: bool = True
) -> None:
    admin_audit.record(
        actor,
        "plan_changed",
        plan,
        reason=reason,
        before=before,
        after=_state(plan),
    )
    cache.invalidate_after_commit(catalog.CACHE_NAMESPACE)
    if commit:
        db.session.commit()
