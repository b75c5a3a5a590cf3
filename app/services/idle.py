"""Idle auto-shutdown: finding active machines nobody uses and stopping them.

A machine is idle when its owner turned auto-shutdown on and, for the owner's
``idle_minutes``:
- no Remote Desktop session was seen (``last_accessed``),
- and either its agent kept reporting (so the silence is real), or, where no agent
  reports, usage polling saw no traffic growth (``traffic_seen_at``);
- and no job touched it (a machine just started or provisioned gets a full period).
A machine with no evidence either way (no agent, no traffic figures) is left alone.

The scan is one SQL statement; a run takes the oldest ``IDLE_STOP_BATCH`` machines found,
which PostgreSQL reads through the primary keys and the jobs' instance index, stopping as
soon as it has enough (plans in BENCHMARKS.md). Each machine found is then claimed under a
row lock, with the same condition checked again, and stopped through the ordinary job
path, exactly as the API's stop does.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, exists, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.extensions import db
from app.models import Instance, InstanceStatus, Job, User
from app.models.base import UTCDateTime, utcnow
from app.services import lifecycle
from app.services.lifecycle import JobKind

logger = logging.getLogger(__name__)


class minutes_before(FunctionElement[datetime]):
    """``moment - minutes`` in SQL, ``minutes`` being an integer column."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(minutes_before, "postgresql")
def _minutes_before_postgresql(element: minutes_before, compiler: SQLCompiler, **kw: Any) -> str:
    moment, minutes = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST({moment} AS TIMESTAMP WITH TIME ZONE) - make_interval(mins => {minutes}))"


@compiles(minutes_before, "sqlite")
def _minutes_before_sqlite(element: minutes_before, compiler: SQLCompiler, **kw: Any) -> str:
    moment, minutes = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"datetime({moment}, '-' || {minutes} || ' minutes')"


def _idle(now: datetime) -> ColumnElement[bool]:
    """The idle condition for an Instance joined with its User, at ``now``."""
    cutoff = minutes_before(literal(now, UTCDateTime()), User.idle_minutes)
    touched = exists().where(Job.instance_id == Instance.id, Job.created_at > cutoff)
    return and_(
        Instance.status == InstanceStatus.ACTIVE,
        User.auto_shutdown.is_(True),
        or_(Instance.last_accessed.is_(None), Instance.last_accessed < cutoff),
        or_(Instance.last_heartbeat_at >= cutoff, Instance.traffic_seen_at < cutoff),
        ~touched,
    )


def scan(now: datetime, limit: int) -> Select[int]:
    """The one statement that finds the machines idle at ``now``, oldest first."""
    return (
        select(Instance.id)
        .join(User, User.id == Instance.user_id)
        .where(_idle(now))
        .order_by(Instance.id)
        .limit(limit)
    )


def idle_instance_ids(now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Ids of the machines idle at ``now``, at most ``limit`` (default IDLE_STOP_BATCH)."""
    query = scan(now or utcnow(), limit or current_app.config["IDLE_STOP_BATCH"])
    return list(db.session.scalars(query))


def stop_if_idle(instance_id: int, now: datetime | None = None) -> Job | None:
    """Stop the machine if it is still idle; the stop job, or None if it is not idle (any
    more). The stop is the API's: same job, same transition, same task."""
    found = db.session.execute(
        select(Instance, User.idle_minutes)
        .join(User, User.id == Instance.user_id)
        .where(Instance.id == instance_id, _idle(now or utcnow()))
        .with_for_update(of=Instance)
    ).first()
    if found is None:
        db.session.rollback()
        return None
    instance, idle_minutes = found
    job = lifecycle.start_job(
        instance,
        JobKind.STOP,
        audit_as="instance.idle_stopped",
        actor=instance.user_id,
        details={"minutes": idle_minutes},
        context={"reason": "idle", "idle_minutes": idle_minutes},
    )
    db.session.commit()
    logger.info("idle machine stopped", extra={"instance_id": instance.id, "job_id": job.id})
    return job


def stopped_notice(job: Job, user: User) -> EmailMessage:
    """The owner's e-mail: which machine, why, and how to get it back."""
    assert job.instance is not None
    instance = job.instance
    base_url = current_app.config["PUBLIC_BASE_URL"]
    minutes = job.context.get("idle_minutes", user.idle_minutes)
    message = EmailMessage()
    message["To"] = user.email
    message["Subject"] = (
        f"Your NemoRDP desktop {instance.name} was stopped after {minutes} idle minutes"
    )
    message.set_content(
        f"Hello,\n\nyour desktop {instance.name} ({instance.plan.name}, {instance.region}) had "
        f"no Remote Desktop session for {minutes} minutes, so we stopped it as your "
        "auto-shutdown setting asks. Its disk and files are kept.\n\n"
        f"Start it again from {base_url}/app/instances/{instance.id} (or POST "
        f"/api/instances/{instance.id}/start); it is ready in a minute or two.\n\n"
        f"You can change the idle time or turn auto-shutdown off at {base_url}/app/settings .\n"
        "You get these e-mails because e-mail notifications are on in your settings.\n\n"
        "— The NemoRDP team\n"
    )
    return message
