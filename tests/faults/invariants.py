"""What must hold once the platform has settled, however many faults it went through.

Each check returns the violations it found, as sentences (empty: all is well), so a test
asserts the list is empty and the soak reports them all at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import stripe
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models import (
    ACTIVE_JOB_STATES,
    Instance,
    InstanceStatus,
    Job,
    JobState,
    Subscription,
    User,
    WebhookEvent,
)
from app.services.billing import LIVE_SUBSCRIPTION_STATES
from tests.support.emulators import EmulatorHandle
from tests.support.factories import label_of

S = InstanceStatus
# Orders that have (or should have) no machine at a provider.
MACHINELESS = (S.PENDING_PAYMENT, S.TERMINATED, S.FAILED)
SETTLED = (S.ACTIVE, S.STOPPED, S.SUSPENDED, *MACHINELESS)


def _label(machine: Mapping[str, Any]) -> str:
    return str(machine.get("label") or machine.get("displayName") or "")


def machines(engine: Engine, emulators: Mapping[str, EmulatorHandle]) -> list[str]:
    """Exactly one machine for each paid order that should have one; none for anything
    else (an orphan nobody pays for)."""
    with Session(engine) as session:
        instances = list(session.scalars(select(Instance)))
        paying = set(
            session.scalars(
                select(Subscription.instance_id).where(
                    Subscription.status.in_(LIVE_SUBSCRIPTION_STATES)
                )
            )
        )
    found: dict[str, list[str]] = {}
    for provider, emulator in emulators.items():
        for machine in emulator.machines():
            found.setdefault(_label(machine), []).append(provider)
    problems = []
    for instance in instances:
        held = found.pop(label_of(instance), [])
        if instance.status in MACHINELESS:
            if held:
                problems.append(f"{instance.name} is {instance.status} but has machines {held}")
            continue
        if held != [instance.provider]:
            problems.append(f"{instance.name} ({instance.status}) has machines {held}")
        if instance.id not in paying:
            problems.append(f"{instance.name} runs but no live subscription pays for it")
    problems += [f"orphan machine {label} at {where}" for label, where in found.items()]
    return problems


def settled(engine: Engine) -> list[str]:
    """No job left unfinished, no instance half-way, every stored webhook event processed,
    and every failed order failed by a job (which alerts ops)."""
    with Session(engine) as session:
        jobs = list(session.scalars(select(Job)))
        instances = list(session.scalars(select(Instance)))
        unprocessed = list(
            session.scalars(
                select(WebhookEvent.stripe_event_id).where(WebhookEvent.processed_at.is_(None))
            )
        )
    problems = [
        f"job {j.id} ({j.kind}) is still {j.state}" for j in jobs if j.state in ACTIVE_JOB_STATES
    ]
    problems += [
        f"instance {i.id} is still {i.status}" for i in instances if i.status not in SETTLED
    ]
    failed_jobs = {(j.instance_id, j.kind) for j in jobs if j.state == JobState.FAILED}
    problems += [
        f"instance {i.id} failed without a failed provisioning job"
        for i in instances
        if i.status == S.FAILED and (i.id, "provision") not in failed_jobs
    ]
    problems += [f"webhook event {event_id} never processed" for event_id in unprocessed]
    return problems


def charges(engine: Engine, api: stripe.StripeClient) -> list[str]:
    """At Stripe: one subscription per order, and each subscription's first invoice paid
    once; our mirror agrees with Stripe on which subscriptions are live."""
    with Session(engine) as session:
        mirrored = {
            s.stripe_subscription_id: s.status for s in session.scalars(select(Subscription))
        }
        ours = set(session.scalars(select(User.stripe_customer_id)))
    problems = []
    per_order: Counter[str] = Counter()
    subscriptions = api.v1.subscriptions.list({"status": "all", "limit": 100})
    for remote in subscriptions.auto_paging_iter():
        if remote.customer not in ours:
            continue  # someone else's (earlier tests against the same Stripe)
        order = remote.metadata.to_dict().get("instance_id", remote.id)
        if remote.status not in ("incomplete", "incomplete_expired"):
            per_order[order] += 1
        live_here = mirrored.get(remote.id) in LIVE_SUBSCRIPTION_STATES
        if live_here != (remote.status in LIVE_SUBSCRIPTION_STATES):
            problems.append(
                f"subscription {remote.id} is {remote.status} at Stripe, "
                f"{mirrored.get(remote.id)} in our mirror"
            )
        first_payments = [
            invoice
            for invoice in api.v1.invoices.list(
                {"subscription": remote.id, "limit": 100}
            ).auto_paging_iter()
            if invoice.status == "paid"
            and (invoice.billing_reason or "subscription_create") == "subscription_create"
            and invoice.amount_paid > 0
        ]
        if len(first_payments) > 1:
            problems.append(f"subscription {remote.id} charged {len(first_payments)} times")
    problems += [f"order {o} has {n} subscriptions" for o, n in per_order.items() if n > 1]
    return problems


def undelivered_kept_nothing(engine: Engine, api: stripe.StripeClient) -> list[str]:
    """No active subscription, and no kept payment, for an order that ended without its
    machine ever answering: its payment page is closed, each payment refunded in full."""
    with Session(engine) as session:
        ended = session.scalars(
            select(Instance).where(
                Instance.delivered_at.is_(None), Instance.status.in_((S.TERMINATED, S.FAILED))
            )
        ).all()
    problems = []
    for instance in ended:
        subscription_id = instance.stripe_subscription_id
        if instance.checkout_session_id is not None:
            session_at_stripe = api.v1.checkout.sessions.retrieve(instance.checkout_session_id)
            if session_at_stripe.status == "open":
                problems.append(f"order {instance.id} ended with its payment page still open")
            ordered = session_at_stripe.subscription
            if ordered is not None:
                subscription_id = ordered if isinstance(ordered, str) else ordered.id
        if subscription_id is None:
            continue
        status = api.v1.subscriptions.retrieve(str(subscription_id)).status
        if status in LIVE_SUBSCRIPTION_STATES:
            problems.append(f"order {instance.id} never had a machine, its subscription is live")
        paid = api.v1.invoices.list({"subscription": str(subscription_id), "status": "paid"})
        for invoice in paid.auto_paging_iter():
            if invoice.amount_paid and _refunded(api, str(invoice.id)) < invoice.amount_paid:
                problems.append(
                    f"order {instance.id} never had a machine, its invoice {invoice.id} "
                    "is not refunded"
                )
    return problems


def _refunded(api: stripe.StripeClient, invoice_id: str) -> int:
    total = 0
    for payment in api.v1.invoice_payments.list({"invoice": invoice_id}).auto_paging_iter():
        intent = payment.payment.payment_intent
        if intent:
            refunds = api.v1.refunds.list({"payment_intent": str(intent)})
            total += sum(refund.amount for refund in refunds.auto_paging_iter())
    return total
