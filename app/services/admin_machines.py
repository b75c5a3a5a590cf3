"""Every customer's machines, for operators: filtered listings, one machine with its jobs,
and power actions and termination taken on a customer's behalf, with a reason.

Actions start the same jobs as the owner's (`lifecycle.start_job`), from the statuses the
lifecycle allows (an operator may also start a machine suspended for an unpaid invoice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import joinedload

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Instance, InstanceStatus, Job, JobState, Plan, User
from app.models.base import utcnow
from app.services import admin_audit, jobs, lifecycle
from app.services.lifecycle import JobKind
from app.services.pagination import Page, paginate
from app.services.tasks import require_broker

S = InstanceStatus
# What operators may do to a machine; terminating is for admins only (see the routes).
ACTIONS = (JobKind.RESTART, JobKind.STOP, JobKind.START, JobKind.TERMINATE)
# A failed job this recent marks its machine as failing.
FAILED_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class MachineFilter:
    status: str | None = None
    provider: str | None = None
    region: str | None = None
    plan: str | None = None
    owner: int | None = None
    idle_hours: int | None = None  # active, with no Remote Desktop session for this long
    failed: bool = False  # failed, or a job of it failed in the last `FAILED_WINDOW`


def _query(where: MachineFilter) -> Select[tuple[Instance]]:
    query = select(Instance).options(joinedload(Instance.user))
    if where.status:
        query = query.where(Instance.status == where.status)
    if where.provider:
        query = query.where(Instance.provider == where.provider)
    if where.region:
        query = query.where(Instance.region == where.region)
    if where.plan:
        query = query.where(Instance.plan.has(Plan.code == where.plan))
    if where.owner is not None:
        query = query.where(Instance.user_id == where.owner)
    if where.idle_hours is not None:
        since = utcnow() - timedelta(hours=where.idle_hours)
        query = query.where(
            Instance.status == S.ACTIVE,
            or_(
                Instance.last_accessed < since,
                and_(Instance.last_accessed.is_(None), Instance.created_at < since),
            ),
        )
    if where.failed:
        recent_failure = exists().where(
            Job.instance_id == Instance.id,
            Job.state == JobState.FAILED,
            Job.finished_at > utcnow() - FAILED_WINDOW,
        )
        query = query.where(or_(Instance.status == S.FAILED, recent_failure))
    return query.order_by(Instance.id.desc())


def search(where: MachineFilter, page: int, per_page: int) -> Page[Instance]:
    return paginate(_query(where), page, per_page)


def get(instance_id: int, *, lock: bool = False) -> Instance:
    query = select(Instance).where(Instance.id == instance_id)
    instance = db.session.scalar(query.with_for_update(of=Instance) if lock else query)
    if instance is None:
        raise NotFound("Instance not found.")
    return instance


def jobs_of(instance_id: int, limit: int = 50) -> list[Job]:
    """The machine's jobs, newest first, with their errors."""
    get(instance_id)
    query = select(Job).where(Job.instance_id == instance_id).order_by(Job.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def act(actor: User | None, instance_id: int, action: JobKind, reason: str) -> Job:
    """Start ``action`` on any machine, showing the reason; the same action already under
    way is handed back (a double click)."""
    instance = get(instance_id, lock=True)
    running = jobs.active_job(instance.id)
    if running is not None and running.kind == action:
        return running
    if instance.status not in lifecycle.KINDS[action].starts_from:
        raise Conflict(f"Cannot {action} an instance that is {instance.status}.")
    before = {"status": instance.status}
    job = lifecycle.start_job(
        instance,
        action,
        audit_as=None,
        actor=actor.id if actor else None,
        reason=f"{action.capitalize()} by an operator: {reason}",
    )
    require_broker()
    admin_audit.commit(
        actor,
        f"instance_{action}",
        instance,
        reason=reason,
        before=before,
        after={"status": instance.status, "job_id": job.id},
    )
    return job
