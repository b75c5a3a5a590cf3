"""The machine lifecycle: its states, the jobs that move a machine between them, and the only
code that changes a machine's status.

- `TRANSITIONS`: every move a status may make; `move` refuses any other.
- `KINDS`: for each kind of job, the task that carries it out, the statuses it may start
  from, the statuses the machine is in while it works (the first is where it starts it)
  and the status it ends in.
- `OWNER_ACTIONS`: what a machine's owner may ask for, and from which statuses.

`start_job` is the one way work on a machine begins: the job row, the status change, the
audit event, and its task sent once the transaction commits. `finish_job` and `fail_job`
end it; `superseded` closes a job whose machine moved on. A new action is a row here, one
task and its route.

`tests/architecture/test_lifecycle.py` fails if a status is assigned anywhere else.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from app import metrics, task_names
from app.extensions import db
from app.models import Instance, InstanceStatus, Job, JobState, Snapshot, SnapshotStatus
from app.models.base import utcnow
from app.services import alerts, audit, jobs
from app.services.tasks import enqueue_after_commit

logger = logging.getLogger(__name__)

S = InstanceStatus
_ALIVE = frozenset(set(S) - {S.TERMINATING, S.TERMINATED})

# Every move a status may make (staying put is always allowed).
TRANSITIONS: dict[InstanceStatus, frozenset[InstanceStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PROVISIONING, S.TERMINATING, S.TERMINATED}),
    S.PROVISIONING: frozenset({S.BOOTING, S.ACTIVE, S.FAILED, S.TERMINATING}),
    S.BOOTING: frozenset({S.ACTIVE, S.FAILED, S.TERMINATING}),
    S.ACTIVE: frozenset(
        {
            S.RESTARTING,
            S.STOPPING,
            S.RESIZING,
            S.REINSTALLING,
            S.RESTORING,
            S.TERMINATING,
            S.FAILED,
        }
    ),
    S.RESTARTING: frozenset({S.ACTIVE, S.TERMINATING}),
    S.STOPPING: frozenset({S.STOPPED, S.SUSPENDED, S.ACTIVE, S.TERMINATING}),
    S.STOPPED: frozenset({S.STARTING, S.REINSTALLING, S.RESTORING, S.TERMINATING, S.FAILED}),
    S.STARTING: frozenset({S.ACTIVE, S.STOPPED, S.SUSPENDED, S.TERMINATING}),
    S.RESIZING: frozenset({S.ACTIVE, S.TERMINATING}),
    # A failed reinstall puts the machine back where it was.
    S.REINSTALLING: frozenset({S.ACTIVE, S.STOPPED, S.TERMINATING}),
    # A failed restore from a snapshot puts the machine back where it was.
    S.RESTORING: frozenset({S.ACTIVE, S.STOPPED, S.TERMINATING}),
    S.SUSPENDED: frozenset({S.STARTING, S.TERMINATING, S.FAILED}),
    # A failed terminate puts the machine back where it was.
    S.TERMINATING: frozenset({S.TERMINATED} | _ALIVE),
    S.FAILED: frozenset({S.TERMINATING}),
    S.TERMINATED: frozenset(),
}


class JobKind(StrEnum):
    PROVISION = "provision"
    RESTART = "restart"
    STOP = "stop"
    START = "start"
    SUSPEND = "suspend"
    CHANGE_PLAN = "change_plan"
    TERMINATE = "terminate"
    REINSTALL = "reinstall"
    CANCEL_SUBSCRIPTION = "cancel_subscription"
    SNAPSHOT_CREATE = "snapshot_create"
    SNAPSHOT_RESTORE = "snapshot_restore"
    SNAPSHOT_DELETE = "snapshot_delete"


@dataclass(frozen=True)
class JobRule:
    task: str
    starts_from: frozenset[InstanceStatus]
    # The statuses the machine is in while the job works; it starts the job in the first.
    working: tuple[InstanceStatus, ...] = ()
    # Where the machine ends when the job succeeds.
    target: InstanceStatus | None = None
    # The job gives up once its machine left `working` (a terminate never does).
    gives_way: bool = True
    deadline_setting: str = "ACTION_DEADLINE_SECONDS"


KINDS: dict[str, JobRule] = {
    JobKind.PROVISION: JobRule(
        task_names.CREATE_MACHINE,
        frozenset({S.PENDING_PAYMENT}),
        (S.PROVISIONING, S.BOOTING),
        S.ACTIVE,
        deadline_setting="PROVISION_DEADLINE_SECONDS",
    ),
    JobKind.RESTART: JobRule(task_names.RESTART, frozenset({S.ACTIVE}), (S.RESTARTING,), S.ACTIVE),
    JobKind.STOP: JobRule(task_names.STOP, frozenset({S.ACTIVE}), (S.STOPPING,), S.STOPPED),
    # Resuming a suspended machine is a start too.
    JobKind.START: JobRule(
        task_names.START, frozenset({S.STOPPED, S.SUSPENDED}), (S.STARTING,), S.ACTIVE
    ),
    JobKind.SUSPEND: JobRule(task_names.STOP, frozenset({S.ACTIVE}), (S.STOPPING,), S.SUSPENDED),
    JobKind.CHANGE_PLAN: JobRule(
        task_names.CHANGE_PLAN, frozenset({S.ACTIVE}), (S.RESIZING,), S.ACTIVE
    ),
    JobKind.TERMINATE: JobRule(
        task_names.TERMINATE, _ALIVE, (S.TERMINATING,), S.TERMINATED, gives_way=False
    ),
    # Erases the disk: a new system, new credentials.
    JobKind.REINSTALL: JobRule(
        task_names.REINSTALL,
        frozenset({S.ACTIVE, S.STOPPED}),
        (S.REINSTALLING,),
        S.ACTIVE,
        deadline_setting="PROVISION_DEADLINE_SECONDS",
    ),
    # Billing only: the machine keeps its status.
    JobKind.CANCEL_SUBSCRIPTION: JobRule(task_names.CANCEL_SUBSCRIPTION, frozenset(S)),
    # Snapshots are taken and deleted beside the machine, which keeps its status.
    JobKind.SNAPSHOT_CREATE: JobRule(task_names.CREATE_SNAPSHOT, frozenset({S.ACTIVE, S.STOPPED})),
    JobKind.SNAPSHOT_DELETE: JobRule(task_names.DELETE_SNAPSHOT, _ALIVE),
    # Overwrites the disk with the snapshot; the machine boots into it.
    JobKind.SNAPSHOT_RESTORE: JobRule(
        task_names.RESTORE_SNAPSHOT,
        frozenset({S.ACTIVE, S.STOPPED}),
        (S.RESTORING,),
        S.ACTIVE,
        deadline_setting="PROVISION_DEADLINE_SECONDS",
    ),
}

SNAPSHOT_KINDS = frozenset(
    {JobKind.SNAPSHOT_CREATE, JobKind.SNAPSHOT_RESTORE, JobKind.SNAPSHOT_DELETE}
)

# What an owner may ask for, from which statuses (a suspended machine is resumed by paying).
OWNER_ACTIONS: dict[str, frozenset[InstanceStatus]] = {
    JobKind.RESTART: KINDS[JobKind.RESTART].starts_from,
    JobKind.STOP: KINDS[JobKind.STOP].starts_from,
    JobKind.START: frozenset({S.STOPPED}),
    JobKind.TERMINATE: KINDS[JobKind.TERMINATE].starts_from,
    JobKind.REINSTALL: KINDS[JobKind.REINSTALL].starts_from,
}


class IllegalTransition(RuntimeError):
    """Code asked for a move the lifecycle does not allow: a bug, never a user's error."""


def move(instance: Instance, to: InstanceStatus, *, reason: str | None = None) -> None:
    """Change the machine's status (and the reason shown with it) in the session."""
    current = S(instance.status)
    if to != current and to not in TRANSITIONS[current]:
        raise IllegalTransition(f"instance {instance.id}: {current} -> {to}")
    instance.status = to
    instance.status_reason = reason[:500] if reason else None


def deadline_for(kind: str) -> timedelta:
    return timedelta(seconds=current_app.config[KINDS[kind].deadline_setting])


# -- starting ------------------------------------------------------------------------------
def start_job(
    instance: Instance,
    kind: JobKind,
    *,
    audit_as: str | None,
    actor: int | None,
    details: dict[str, Any] | None = None,
    reason: str | None = None,
    context: dict[str, Any] | None = None,
) -> Job:
    """Start a job on the machine in the current transaction: its row, the machine moved to
    where the job works (showing ``reason``), the audit event ``audit_as`` by ``actor``
    (with ``details``), and its task sent once the caller commits. The caller has checked
    that the machine may start it (`IllegalTransition` otherwise)."""
    rule = KINDS[kind]
    if instance.status not in rule.starts_from:
        raise IllegalTransition(f"instance {instance.id}: no {kind} from {instance.status}")
    job = Job(
        kind=kind,
        instance=instance,
        user_id=instance.user_id,
        state=JobState.QUEUED,
        from_status=instance.status,
        deadline_at=utcnow() + deadline_for(kind),
        context=context or {},
        celery_task_id=_new_task_id(),
    )
    db.session.add(job)
    if rule.working:
        move(instance, rule.working[0], reason=reason)
    if audit_as is not None:
        audit.record(audit_as, actor, instance_id=instance.id, **(details or {}))
    db.session.flush()  # the job's id, for its task
    send_after_commit(job)
    return job


def send_after_commit(job: Job) -> None:
    """Send the job's task once the transaction commits, under the task id the job records
    (a new one if it has none: it was never handed to the broker).

    The id is written with the job, so a sent job costs no write of its own. If the send
    fails, the id is cleared and the stuck-job sweeper sends the job after
    ``STUCK_JOB_UNSENT_GRACE_SECONDS``; a job whose process died between the commit and the
    send is sent again once past its deadline.
    """
    job.celery_task_id = job.celery_task_id or _new_task_id()
    job_id, task_id = job.id, job.celery_task_id

    def unsent() -> None:
        _note_unsent(job_id, task_id)

    enqueue_after_commit(KINDS[job.kind].task, job_id, task_id=task_id, on_failed=unsent)


def _new_task_id() -> str:
    return f"job-{uuid.uuid4().hex}"


def _note_unsent(job_id: int, task_id: str) -> None:
    # After the commit the session may not run SQL: a short transaction of its own. If this
    # fails too, the job is sent again once past its deadline.
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.celery_task_id == task_id)
        .values(celery_task_id=None)
    )
    try:
        with db.engine.begin() as connection:
            connection.execute(statement)
    except SQLAlchemyError as exc:
        logger.warning("job %s not sent, nor noted as unsent: %r", job_id, exc)


# -- while a job runs ----------------------------------------------------------------------
def lock(instance: Instance) -> None:
    """Re-read the machine and hold its row until the commit."""
    db.session.scalar(
        select(Instance)
        .where(Instance.id == instance.id)
        .with_for_update(of=Instance)
        .execution_options(populate_existing=True)
    )


def moved_on(job: Job) -> bool:
    """True when the job's machine left the statuses the job works in (and the job gives
    way then), e.g. terminated meanwhile."""
    rule = KINDS.get(job.kind)
    instance = job.instance
    return (
        rule is not None
        and rule.gives_way
        and bool(rule.working)
        and instance is not None
        and instance.status not in rule.working
    )


def superseded(job: Job) -> bool:
    """True (and the job closed) when its machine moved on."""
    if not moved_on(job):
        return False
    assert job.instance is not None
    jobs.mark_failed(job, f"superseded: the instance is now {job.instance.status}")
    db.session.commit()
    return True


def machine_created(job: Job) -> None:
    """The provider took the order: the machine boots."""
    assert job.instance is not None
    move(job.instance, S.BOOTING)


# -- ending --------------------------------------------------------------------------------
def finish_job(job: Job) -> None:
    """The job succeeded: the machine reaches the job's target, and what follows from it
    (a delivered order, a terminated machine's billing) is set going; commits."""
    instance = job.instance
    rule = KINDS[job.kind]
    if instance is not None and rule.target is not None:
        if job.kind == JobKind.TERMINATE:
            _terminated(job, instance)
        else:
            move(instance, rule.target)
            if job.kind == JobKind.PROVISION:
                instance.delivered_at = utcnow()
    jobs.mark_succeeded(job)
    db.session.commit()


def _terminated(job: Job, instance: Instance) -> None:
    reason = instance.status_reason  # why it was terminated stays shown
    if instance.status not in (S.TERMINATING, S.TERMINATED):
        # A late check moved it meanwhile; the machine is gone all the same.
        move(instance, S.TERMINATING, reason=reason)
    move(instance, S.TERMINATED, reason=reason)
    instance.terminated_at = utcnow()
    instance.password_encrypted = None
    audit.record("instance.terminated", job.user_id, instance_id=instance.id)
    # The machine is gone: stop billing it (the invoice sync catches a lost cancel); an
    # order that never had a machine is refunded in full, its payment page closed.
    if instance.delivered_at is None:
        enqueue_after_commit(task_names.SETTLE_UNDELIVERED, instance.id)
    elif instance.stripe_subscription_id is not None:
        enqueue_after_commit(task_names.END_SUBSCRIPTION, instance.id)
    # Nothing of it stays at the provider, where it would be paid for: its snapshots go too.
    if instance.delivered_at is not None:
        enqueue_after_commit(task_names.DROP_SNAPSHOTS, instance.id)


def fail_job(job: Job, reason: str) -> None:
    """End a job as failed, leave its machine in an honest state, alert ops; commits.

    A failed order has no machine: it is marked failed and its payment goes back. Any other
    job puts the machine back where it was, with the reason shown. A machine that moved on
    meanwhile (terminated, say) stays where it is. A snapshot job's snapshot shows it too
    (`_snapshot_left`)."""
    jobs.mark_failed(job, reason)
    instance = job.instance
    if instance is not None:
        rule = KINDS.get(job.kind)
        where_job_left_it = rule is not None and instance.status in rule.working
        if job.kind == JobKind.PROVISION:
            metrics.provisioning_failures.labels(instance.provider or "none").inc()
            if where_job_left_it:
                move(instance, S.FAILED, reason=reason)
            # No machine: the subscription ends, the payment goes back.
            enqueue_after_commit(task_names.SETTLE_UNDELIVERED, instance.id)
        elif where_job_left_it and job.from_status is not None:
            move(instance, S(job.from_status), reason=f"{job.kind} failed: {reason}")
        elif rule is not None and not rule.working:
            instance.status_reason = f"{job.kind} failed: {reason}"[:500]
    if job.kind in SNAPSHOT_KINDS:
        _snapshot_left(job, reason)
    db.session.commit()
    alerts.job_failed(job)


def _snapshot_left(job: Job, reason: str) -> None:
    """A snapshot never taken is failed (and out of the quota); one whose restore or delete
    failed stays available."""
    snapshot = db.session.get(Snapshot, job.context["snapshot_id"])
    if snapshot is None:
        return
    if snapshot.status == SnapshotStatus.CREATING:
        snapshot.status = SnapshotStatus.FAILED
        snapshot.error = reason[:500]
    elif snapshot.status in (SnapshotStatus.RESTORING, SnapshotStatus.DELETING):
        snapshot.status = SnapshotStatus.AVAILABLE


# -- outside any job -----------------------------------------------------------------------
def pay(instance: Instance) -> Job:
    """The order is paid: provisioning starts."""
    return start_job(instance, JobKind.PROVISION, audit_as="instance.paid", actor=instance.user_id)


def close_unpaid(instance: Instance) -> None:
    """An order left unpaid is closed: no machine is made."""
    move(instance, S.TERMINATED, reason="The order was not paid in time.")
    instance.terminated_at = utcnow()
    instance.checkout_url = None


def vanished(instance: Instance, reason: str) -> None:
    """The provider no longer has the settled machine."""
    move(instance, S.FAILED, reason=reason)
