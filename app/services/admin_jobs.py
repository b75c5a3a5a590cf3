"""Failed and stuck jobs across the platform, and what an operator does about one.

- Retry: a stuck job (still queued, running or retrying well past its deadline, or never
  handed to the broker) is sent again with a fresh deadline, as the sweeper would; a failed
  one is started again as a new job of the same kind, if its machine may start it now.
- Abandon: a stuck job is failed (its machine put back where it was, ops alerted); a failed
  one is set aside.

Either way the job is marked handled (``context["handled"]``) and leaves the failed list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import ACTIVE_JOB_STATES, Job, JobState, User
from app.models.base import utcnow
from app.services import admin_audit, jobs, lifecycle, stuck_jobs
from app.services.pagination import Page, paginate
from app.services.tasks import require_broker

FAILED = "failed"
STUCK = "stuck"
# What a failed job's context may carry into its retry (the rest was its own progress).
NOT_CARRIED = frozenset({"resends", "handled"})


def _failed() -> Select[tuple[Job]]:
    return select(Job).where(
        Job.state == JobState.FAILED, Job.context["handled"].as_string().is_(None)
    )


def search(which: str, page: int, per_page: int) -> Page[Job]:
    """Failed jobs nobody has handled yet, or jobs stuck now; newest first."""
    query: Select[tuple[Job]]
    if which == STUCK:
        query = select(Job).where(Job.id.in_(stuck_jobs.stuck_job_ids()))
    else:
        query = _failed()
    return paginate(query.order_by(Job.id.desc()), page, per_page)


def _get(job_id: int) -> Job:
    job = db.session.scalar(select(Job).where(Job.id == job_id).with_for_update(of=Job))
    if job is None:
        raise NotFound("Job not found.")
    return job


def _is_stuck(job: Job) -> bool:
    return job.state in ACTIVE_JOB_STATES and job.id in stuck_jobs.stuck_job_ids()


def _handled(job: Job, actor: User | None, how: str, **more: Any) -> None:
    job.context = {
        **job.context,
        "handled": {"how": how, "by": actor.id if actor else None, "at": utcnow().isoformat()}
        | more,
    }


def _state(job: Job) -> dict[str, Any]:
    return {"state": job.state, "error": job.error}


def retry(actor: User | None, job_id: int, reason: str) -> Job:
    """Send a stuck job again, or start a failed job again as a new job; returns the job
    that now carries the work."""
    job = _get(job_id)
    before = _state(job)
    if _is_stuck(job):
        job.deadline_at = utcnow() + lifecycle.deadline_for(job.kind)
        lifecycle.send_after_commit(job)
        carried_by = job
    elif job.state == JobState.FAILED and "handled" not in job.context:
        carried_by = _start_again(actor, job, reason)
    else:
        raise Conflict(f"Only a failed or stuck job can be retried; this one is {job.state}.")
    _handled(job, actor, "retried", job_id=carried_by.id)
    require_broker()
    admin_audit.commit(
        actor,
        "job_retried",
        job,
        reason=reason,
        before=before,
        after={**_state(job), "retried_as": carried_by.id},
    )
    return carried_by


def _start_again(actor: User | None, job: Job, reason: str) -> Job:
    instance = job.instance
    if instance is None or job.kind not in lifecycle.KINDS:
        raise Conflict("This job has no machine to run on again.")
    lifecycle.lock(instance)
    if jobs.active_job(instance.id) is not None:
        raise Conflict("Another job is under way on this machine; wait for it to end.")
    if instance.status not in lifecycle.KINDS[job.kind].starts_from:
        raise Conflict(f"A {job.kind} cannot start on an instance that is {instance.status}.")
    return lifecycle.start_job(
        instance,
        lifecycle.JobKind(job.kind),
        audit_as=None,
        actor=actor.id if actor else None,
        reason=f"Retried by an operator: {reason}",
        context={k: v for k, v in job.context.items() if k not in NOT_CARRIED},
    )


def abandon(actor: User, job_id: int, reason: str) -> Job:
    """Give up on a stuck job (failed now, its machine put back) or set a failed one aside."""
    job = _get(job_id)
    before = _state(job)
    stuck = _is_stuck(job)
    if not stuck and not (job.state == JobState.FAILED and "handled" not in job.context):
        raise Conflict(f"Only a failed or stuck job can be abandoned; this one is {job.state}.")
    _handled(job, actor, "abandoned")
    event = admin_audit.record(actor, "job_abandoned", job, reason=reason, before=before)
    if stuck:
        lifecycle.fail_job(job, f"abandoned by an operator: {reason}")  # commits
    event.details = {**event.details, "after": _state(job)}
    db.session.commit()
    return job
