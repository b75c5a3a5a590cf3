"""Billing as customers see it: their subscriptions, invoices, cancellations and plan
changes. Pages read our mirror (`billing_mirror`), never Stripe; changes are jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from app.extensions import db
from app.models import (
    ACTIVE_JOB_STATES,
    Instance,
    InstanceStatus,
    Invoice,
    Job,
    Plan,
    Subscription,
    User,
)
from app.models.base import utcnow
from app.services import lifecycle
from app.services.instances import get_for
from app.services.lifecycle import JobKind
from app.services.pagination import Page, paginate
from app.services.tasks import require_broker
from workers.providers import registry
from workers.providers.base import Capability

S = InstanceStatus
# Subscriptions that still pay for a machine.
LIVE_SUBSCRIPTION_STATES = ("active", "trialing", "past_due", "incomplete", "unpaid")


@dataclass(frozen=True)
class Proration:
    amount_due: int
    currency: str


# -- reading the mirror ------------------------------------------------------------------
def subscriptions_for(user: User) -> list[Subscription]:
    return list(
        db.session.scalars(
            select(Subscription)
            .where(Subscription.user_id == user.id)
            .order_by(Subscription.created_at.desc(), Subscription.id.desc())
            # Each is shown with its machine's label: load them all at once.
            .options(selectinload(Subscription.instance))
        )
    )


def summary(user: User) -> dict[str, object]:
    """The seed's single-subscription fields (from the newest active subscription, else the
    newest live one) and the full list."""
    subscriptions = subscriptions_for(user)
    live = [s for s in subscriptions if s.status in LIVE_SUBSCRIPTION_STATES]
    main = next((s for s in live if s.status == "active"), live[0] if live else None)
    none = "no_active_subscription" if subscriptions else "no_subscription"
    return {
        "status": main.status if main else none,
        "subscription_id": main.stripe_subscription_id if main else None,
        "current_period_start": main.current_period_start if main else None,
        "current_period_end": main.current_period_end if main else None,
        "plan_name": main.plan.name if main else None,
        "amount_cents": main.amount_cents if main else None,
        "currency": main.currency if main else None,
        "cancel_at_period_end": main.cancel_at_period_end if main else False,
        "subscriptions": subscriptions,
    }


def invoices_for(user: User, page: int, per_page: int) -> Page[Invoice]:
    query = (
        select(Invoice)
        .where(Invoice.user_id == user.id)
        .order_by(Invoice.created.desc(), Invoice.id.desc())
    )
    return paginate(query, page, per_page)


def _subscription_of(user: User, instance_id: int) -> Subscription:
    subscription = db.session.scalar(
        select(Subscription).where(
            Subscription.user_id == user.id, Subscription.instance_id == instance_id
        )
    )
    if subscription is None:
        raise NotFound("This instance has no subscription.")
    return subscription


def instance_meant(user: User, instance_id: int | None) -> int:
    """The machine a request is about: the one named, else the machine of the account's
    only live subscription (as the seed's calls, which name none, mean). With several,
    the caller must say which (422 naming ``instance_id``); with none, there is nothing to
    act on (409)."""
    if instance_id is not None:
        return instance_id
    live = [s for s in subscriptions_for(user) if s.status in LIVE_SUBSCRIPTION_STATES]
    if not live:
        raise Conflict("You have no live subscription.")
    if len(live) > 1:
        raise ValidationFailed(
            f"You have {len(live)} live subscriptions: say which machine you mean.",
            fields={"instance_id": [f"Required: you have {len(live)} live subscriptions."]},
        )
    return live[0].instance_id


# -- cancelling --------------------------------------------------------------------------
def request_cancel(user: User, instance_id: int | None, *, every: bool = False) -> list[Job]:
    """Cancel at period end (one machine's subscription, or with ``every`` all of them)
    through jobs; without either, the machine `instance_meant`.

    The machine keeps running until the period ends; Stripe then deletes the subscription
    and its webhook terminates the machine. A repeated request (a double click) while the
    first one's jobs run gets those jobs back: the machines' rows are held, so requests
    queue up behind each other.
    """
    if not every:
        instance_id = instance_meant(user, instance_id)
    _lock_machines(user, instance_id)
    running = _running_cancellations(user, instance_id)
    under_way = {job.instance_id for job in running}
    if instance_id is not None:
        if running:
            db.session.rollback()
            return running
        subscriptions = [_subscription_of(user, instance_id)]
        if subscriptions[0].cancel_at_period_end:
            raise Conflict("This subscription is already cancelled at the end of its period.")
        if subscriptions[0].status not in LIVE_SUBSCRIPTION_STATES:
            raise Conflict(f"This subscription is already {subscriptions[0].status}.")
    else:
        subscriptions = [
            s
            for s in subscriptions_for(user)
            if s.status in LIVE_SUBSCRIPTION_STATES
            and not s.cancel_at_period_end
            and s.instance_id not in under_way
        ]
        if not subscriptions and not running:
            raise Conflict("There is no subscription left to cancel.")
    created = [
        lifecycle.start_job(
            subscription.instance,
            JobKind.CANCEL_SUBSCRIPTION,
            audit_as="subscription.cancel_requested",
            actor=user.id,
        )
        for subscription in subscriptions
    ]
    require_broker()
    db.session.commit()
    return running + created


def _lock_machines(user: User, instance_id: int | None) -> None:
    query = select(Instance.id).where(Instance.user_id == user.id)
    if instance_id is not None:
        query = query.where(Instance.id == instance_id)
    db.session.scalars(query.order_by(Instance.id).with_for_update()).all()


def _running_cancellations(user: User, instance_id: int | None) -> list[Job]:
    query = select(Job).where(
        Job.user_id == user.id,
        Job.kind == JobKind.CANCEL_SUBSCRIPTION,
        Job.state.in_(ACTIVE_JOB_STATES),
    )
    if instance_id is not None:
        query = query.where(Job.instance_id == instance_id)
    return list(db.session.scalars(query.order_by(Job.id)))


# -- plan changes ------------------------------------------------------------------------
def _plan_change(user: User, instance_id: int, new_plan: str) -> tuple[Instance, Plan]:
    """Validate a plan change; the instance is locked until the caller commits."""
    plan = db.session.scalar(select(Plan).where(Plan.code == new_plan, Plan.active))
    if plan is None:
        raise ValidationFailed(fields={"new_plan": ["Unknown plan."]})
    instance = get_for(user, instance_id, lock=True)
    if plan.id == instance.plan_id:
        raise Conflict(f"The instance is already on the {plan.name} plan.")
    if instance.status != S.ACTIVE:
        raise Conflict(f"Only an active instance can change plan; this one is {instance.status}.")
    assert instance.provider is not None
    offered_regions = plan.offers.get(instance.provider, {}).get("regions", {})
    if instance.region not in offered_regions:
        raise Conflict(f"The {plan.name} plan is not offered where this instance runs.")
    provider = registry.client_class(instance.provider)
    if not provider.can(Capability.RESIZE):
        raise Conflict(
            f"{provider.title} machines cannot change plan in place; "
            "order a new machine on that plan."
        )
    if plan.disk_gb < instance.plan.disk_gb and not provider.can(Capability.SHRINK_DISK):
        raise Conflict(
            f"{provider.title} cannot shrink a disk: {plan.name} has {plan.disk_gb} GB, "
            f"this instance has {instance.plan.disk_gb} GB."
        )
    subscription = _subscription_of(user, instance_id)
    if subscription.status not in ("active", "trialing"):
        raise Conflict(f"The subscription is {subscription.status}; settle it first.")
    if plan.stripe_price_id is None:
        raise ServiceUnavailable("This plan cannot be ordered yet: its price is not set up.")
    return instance, plan


def preview(user: User, instance_id: int | None, new_plan: str) -> Proration:
    """What the change will be invoiced now: the price difference for the rest of the
    period, as Stripe prorates it (to the second)."""
    instance_id = instance_meant(user, instance_id)
    instance, plan = _plan_change(user, instance_id, new_plan)
    subscription = _subscription_of(user, instance_id)
    db.session.rollback()  # release the row lock: nothing changes
    return _proration(subscription, instance.plan, plan)


def _proration(subscription: Subscription, old: Plan, new: Plan) -> Proration:
    start, end = subscription.current_period_start, subscription.current_period_end
    if start is None or end is None or end <= start:
        return Proration(new.price_cents - old.price_cents, new.currency)
    left = max(0.0, (end - utcnow()).total_seconds()) / (end - start).total_seconds()
    return Proration(round((new.price_cents - old.price_cents) * left), new.currency)


def request_plan_change(
    user: User, instance_id: int | None, new_plan: str
) -> tuple[Job, Proration]:
    """Start a plan change: Stripe invoices the difference at once, then the machine is
    resized at its provider, both by one job. Without ``instance_id``, the machine
    `instance_meant`."""
    instance_id = instance_meant(user, instance_id)
    instance, plan = _plan_change(user, instance_id, new_plan)
    proration = _proration(_subscription_of(user, instance_id), instance.plan, plan)
    job = lifecycle.start_job(
        instance,
        JobKind.CHANGE_PLAN,
        audit_as="instance.plan_change_requested",
        actor=user.id,
        details={"from_plan": instance.plan.code, "to_plan": plan.code},
        context={"plan": plan.code, "from_plan": instance.plan.code},
    )
    require_broker()
    db.session.commit()
    return job, proration
