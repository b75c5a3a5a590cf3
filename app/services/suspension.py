"""Suspending a customer's account, and lifting it.

A suspended account cannot sign in (its sign-ins and API tokens stop working at once, as
`User.is_active` is false) nor order; its running machines are stopped by stop jobs marked
as the suspension's, and its unpaid orders are closed. Lifting it starts again the machines
the suspension stopped (and only those: a machine its owner had stopped stays stopped).
The customer is e-mailed both times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app import task_names
from app.errors import Conflict
from app.extensions import db
from app.models import Instance, InstanceStatus, Job, JobState, User
from app.models.base import utcnow
from app.services import admin_audit, lifecycle, logins
from app.services.lifecycle import JobKind
from app.services.tasks import enqueue_after_commit, require_broker

S = InstanceStatus
# The context a stop job carries when a suspension started it.
SUSPENSION_MARK = "account_suspension"


def _state(user: User) -> dict[str, Any]:
    return {
        "suspended_at": user.suspended_at.isoformat() if user.suspended_at else None,
        "suspension_reason": user.suspension_reason,
    }


def _machines(user: User, statuses: tuple[InstanceStatus, ...]) -> list[Instance]:
    """The user's machines in these statuses, their rows held until the commit."""
    return list(
        db.session.scalars(
            select(Instance)
            .where(Instance.user_id == user.id, Instance.status.in_(statuses))
            .order_by(Instance.id)
            .with_for_update(of=Instance)
        )
    )


def suspend(actor: User | None, user: User, reason: str) -> list[Job]:
    """Suspend the account: sign-ins ended, running machines stopped, unpaid orders closed,
    the customer e-mailed. Returns the stop jobs started."""
    if user.suspended_at is not None:
        raise Conflict("This account is already suspended.")
    if user.id == (actor.id if actor else None):
        raise Conflict("You cannot suspend your own account.")
    require_broker()
    before = _state(user)
    user.suspended_at, user.suspension_reason = utcnow(), reason
    logins.end_all(user)
    stopped = _start_jobs(
        JobKind.STOP,
        _machines(user, (S.ACTIVE,)),
        actor,
        "Stopped: the account is suspended.",
        context={SUSPENSION_MARK: True},
    )
    for order in _machines(user, (S.PENDING_PAYMENT,)):
        lifecycle.close_unpaid(order)
        enqueue_after_commit(task_names.SETTLE_UNDELIVERED, order.id)
    _commit_and_notify(
        actor,
        "customer_suspended",
        user,
        reason,
        before,
        after={**_state(user), "stopped_instances": [job.instance_id for job in stopped]},
    )
    return stopped


def unsuspend(actor: User | None, user: User, reason: str) -> list[Job]:
    """Lift the suspension: the account signs in again and the machines the suspension
    stopped start again; the customer is e-mailed. Returns the start jobs started."""
    if user.suspended_at is None:
        raise Conflict("This account is not suspended.")
    require_broker()
    before = _state(user)
    suspended_at = user.suspended_at
    user.suspended_at = user.suspension_reason = None
    started = _start_jobs(
        JobKind.START,
        [i for i in _machines(user, (S.STOPPED,)) if _stopped_by_suspension(i, suspended_at)],
        actor,
        "Started: the account's suspension is lifted.",
    )
    _commit_and_notify(
        actor,
        "customer_unsuspended",
        user,
        reason,
        before,
        after={**_state(user), "started_instances": [job.instance_id for job in started]},
    )
    return started


def _start_jobs(
    kind: JobKind,
    instances: list[Instance],
    actor: User | None,
    reason: str,
    context: dict[str, Any] | None = None,
) -> list[Job]:
    """Start a `kind` job on each machine on the account's behalf."""
    return [
        lifecycle.start_job(
            instance,
            kind,
            audit_as=None,
            actor=actor.id if actor else None,
            reason=reason,
            context=context,
        )
        for instance in instances
    ]


def _commit_and_notify(
    actor: User | None,
    action: str,
    user: User,
    reason: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """Audit the change and commit it; the customer is e-mailed about it once committed."""
    event = admin_audit.record(actor, action, user, reason=reason, before=before, after=after)
    db.session.flush()
    enqueue_after_commit(task_names.SEND_SUSPENSION_NOTICE, event.id)
    db.session.commit()


def _stopped_by_suspension(instance: Instance, since: datetime) -> bool:
    """True when the machine's last job is the suspension's stop, and it succeeded."""
    last = db.session.scalar(
        select(Job).where(Job.instance_id == instance.id).order_by(Job.id.desc()).limit(1)
    )
    return (
        last is not None
        and last.kind == JobKind.STOP
        and last.state == JobState.SUCCEEDED
        and bool(last.context.get(SUSPENSION_MARK))
        and last.created_at >= since
    )
