"""Status rounds: every machine in flight watched with one list call per provider per round.

A job is in flight while its step awaits the machine (`machines.AWAITING_STEPS`: a create
made, an action called). A round lists each provider's machines once (ours, every page),
matches them to the jobs by provider id, and settles each job with what its machine shows
(`machines.settle`). Only a machine missing from the list gets a GET of its own: a machine
just created may not be listed yet, and a 404 within the grace is no failure. A job past
its deadline fails; a new machine gets its first look ``FIRST_CHECK_DELAY`` after its
create.

One round runs at a time (a Redis lock), and each schedules the next while jobs are in
flight, every ``STATUS_CHECK_INTERVAL``. A step that leaves a job in flight asks for a round
(`schedule_round`), which does nothing when one is already due; the stuck-job sweep asks
too, so a chain of rounds broken by an outage starts again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from flask import current_app
from redis.exceptions import LockError, RedisError
from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from app import task_names
from app.extensions import db
from app.models import ACTIVE_JOB_STATES, Instance, Job
from app.models.base import utcnow
from app.redis_client import failing_fast
from app.services import lifecycle
from app.services.lifecycle import JobKind
from app.services.tasks import enqueue
from workers import machines
from workers.outside_errors import OutsideError, PermanentError, TransientError
from workers.providers.base import Machine
from workers.providers.registry import client_for

logger = logging.getLogger(__name__)

# Set while a round is queued: asking for another then does nothing.
ROUND_DUE_KEY = "nemordp:machine_checks:due"
# Held while a round runs.
ROUND_LOCK_KEY = "nemordp:machine_checks:running"


@dataclass
class Round:
    """What one round did: jobs looked at, list calls and GETs by provider."""

    jobs: int = 0
    lists: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gets: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _redis() -> redis.Redis:
    client = current_app.extensions.get("machine_checks_redis")
    if client is None:
        client = failing_fast(current_app.config["REDIS_URL"], retries=1)
        current_app.extensions["machine_checks_redis"] = client
    return client


def schedule_round() -> None:
    """Have a round run ``STATUS_CHECK_INTERVAL`` from now, unless one is already due.

    If Redis or the broker is away, nothing is scheduled; the stuck-job sweep asks again."""
    try:
        if not _redis().set(ROUND_DUE_KEY, "1", nx=True, px=int(_marker_seconds() * 1000)):
            return
    except RedisError as exc:
        logger.warning("no status round scheduled: Redis unreachable (%r)", exc)
        return
    interval = current_app.config["STATUS_CHECK_INTERVAL"]
    if enqueue(task_names.CHECK_MACHINES, countdown=interval) is None:
        _forget_due()


def _marker_seconds() -> float:
    """How long the "due" marker and the round lock last: past a round's usual wait and
    run, short enough that a round lost with its worker holds up the next one only
    briefly. Should one outlive them, two rounds overlap once (each is harmless twice) and
    their chains merge, as the next is scheduled only where none is due."""
    return 2 * current_app.config["STATUS_CHECK_INTERVAL"] + 10


def _forget_due() -> None:
    try:
        _redis().delete(ROUND_DUE_KEY)
    except RedisError as exc:
        logger.warning("status round marker left to expire: Redis unreachable (%r)", exc)


def keep_watching() -> None:
    """Ask for a round if any job is in flight (restarts a chain of rounds an outage broke)."""
    if _count_in_flight():
        schedule_round()


def run_round() -> Round | None:
    """One round over every job in flight; None if another round holds the lock. The
    caller schedules the next round while jobs remain (`still_in_flight`)."""
    _forget_due()  # asked for from now on, a round is scheduled anew
    lock = _redis().lock(ROUND_LOCK_KEY, timeout=_marker_seconds(), blocking=False)
    if not lock.acquire():
        return None
    try:
        return _look_at_everything()
    finally:
        try:
            lock.release()
        except LockError:
            logger.warning("status round outlived its lock")


def still_in_flight() -> bool:
    return _count_in_flight() > 0


def _in_flight() -> Select[Job]:
    return (
        select(Job)
        .join(Job.instance)
        .where(
            Job.state.in_(ACTIVE_JOB_STATES),
            Job.step.in_(machines.AWAITING_STEPS),
            Instance.provider.is_not(None),
            Instance.provider_id.is_not(None),
        )
    )


def _count_in_flight() -> int:
    query = _in_flight().with_only_columns(func.count(Job.id))
    return int(db.session.scalar(query) or 0)


def _look_at_everything() -> Round:
    done = Round()
    now = utcnow()
    due: dict[str, list[Job]] = defaultdict(list)
    query = _in_flight().options(contains_eager(Job.instance)).order_by(Job.id)
    for job in db.session.scalars(query).all():
        if lifecycle.superseded(job):
            continue
        if job.deadline_at is not None and now > job.deadline_at:
            machines.fail(job, "the machine did not get there before the deadline")
            continue
        if _first_look_due(job, now):
            assert job.instance is not None and job.instance.provider is not None
            due[job.instance.provider].append(job)
    for provider, jobs in due.items():
        listed = _list(provider, done)
        if listed is None:
            continue  # the provider did not answer: these jobs wait for the next round
        for job in jobs:
            done.jobs += 1
            _check(job, listed, done)
    return done


def _first_look_due(job: Job, now: datetime) -> bool:
    """A new machine is left to boot ``FIRST_CHECK_DELAY`` before its first look."""
    created_at = job.context.get("created_at")
    if job.kind != JobKind.PROVISION or created_at is None:
        return True
    delay = timedelta(seconds=current_app.config["FIRST_CHECK_DELAY"])
    return now >= datetime.fromisoformat(created_at) + delay


def _list(provider: str, done: Round) -> dict[str, Machine] | None:
    """The provider's machines of ours by provider id; None when it did not answer."""
    done.lists[provider] += 1
    try:
        return {m.provider_id: m for m in client_for(provider).list_ours()}
    except OutsideError as exc:
        logger.warning("status round: %s did not list its machines: %s", provider, exc.message)
        return None


def _check(job: Job, listed: dict[str, Machine], done: Round) -> None:
    """Settle one job with its listed machine, or with a GET of its own when not listed."""
    instance = job.instance
    assert instance is not None and instance.provider is not None
    provider_id = instance.provider_id
    assert provider_id is not None
    try:
        machine = listed.get(provider_id)
        if machine is None:
            done.gets[instance.provider] += 1
            machine = machines.look(job)
        if machine is not None:
            machines.settle(job, machine)
    except TransientError:
        db.session.rollback()  # looked at again next round
    except PermanentError as exc:
        db.session.rollback()
        machines.fail(job, exc.message)
