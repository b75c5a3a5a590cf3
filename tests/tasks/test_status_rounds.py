"""Status rounds: every machine in flight watched with one list call per provider per round,
a GET only for a machine the list misses; jobs finish at their target, fail on an error,
a vanished machine or the deadline; actions have a queue of their own.

Rounds are run here in the test process, against the emulators over HTTP and the real
database, while the session's worker leaves the rounds' queue alone (`rounds_held`); the
last tests go through the worker and the API."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import task_names
from app.models import Instance, InstanceStatus, Job, JobState
from app.models.base import utcnow
from app.services.lifecycle import JobKind
from tests.support.api import Customer, order, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.factories import make_instance
from workers import machine_checks
from workers.machine_checks import Round
from workers.providers.base import CreateRequest, Machine
from workers.providers.registry import client_for

REGION_OF = {"vultr": "us-east", "contabo": "australia"}
LIST_AND_GET = ("list", "get")


@pytest.fixture()
def rounds_held(app: Flask) -> Iterator[None]:
    """No worker takes a round meanwhile; no round is left due or running afterwards."""
    celery = app.extensions["celery"]
    redis = celery.connection_for_write().default_channel.client
    # The worker has said it stopped consuming (a busy one may take more than a second).
    wait_until(
        lambda: bool(celery.control.cancel_consumer("checks", reply=True, timeout=1)),
        timeout=15,
    )
    with app.app_context():
        wait_until(lambda: _lock_free(app), timeout=30)  # a round the worker holds ends
    redis.delete("checks", machine_checks.ROUND_DUE_KEY)  # what an earlier test scheduled
    yield
    redis.delete("checks", machine_checks.ROUND_DUE_KEY)
    celery.control.add_consumer("checks", reply=True, timeout=0.5)


def _lock_free(app: Flask) -> bool:
    redis = app.extensions["celery"].connection_for_write().default_channel.client
    return not redis.exists(machine_checks.ROUND_LOCK_KEY)


@pytest.fixture()
def emulators(
    vultr_server: EmulatorHandle, contabo_server: EmulatorHandle
) -> dict[str, EmulatorHandle]:
    vultr_server.reset()
    contabo_server.reset()
    return {"vultr": vultr_server, "contabo": contabo_server}


def _make_machine(app: Flask, provider: str, number: int) -> Machine:
    offer = _offer(app, provider)
    with app.app_context():
        return client_for(provider).create(
            CreateRequest(
                label=f"nemordp-rounds-{provider}-{number}",
                plan=offer["plan"],
                region=offer["regions"][REGION_OF[provider]],
                os_type="linux",
                user_data="",
                password="Rounds-Password-123!",
            )
        )


def _offer(app: Flask, provider: str) -> dict[str, Any]:
    from app.extensions import db
    from app.models import Plan

    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.code == "basic"))
        assert plan is not None
        return dict(plan.offers[provider])


def _in_flight(
    database: Database,
    user_id: int,
    provider: str,
    provider_id: str,
    *,
    kind: str = JobKind.PROVISION,
    created_ago: float = 60.0,
    deadline_in: float = 600.0,
) -> int:
    """A job in flight on a machine: a provision past its create, or an action called."""
    provision = kind == JobKind.PROVISION
    instance = make_instance(
        database,
        user_id,
        status=InstanceStatus.BOOTING if provision else InstanceStatus.RESTARTING,
        provider=provider,
        provider_id=provider_id,
        region=REGION_OF[provider],
        ip_address=None,
    )
    now = utcnow()
    job = Job(
        kind=kind,
        instance_id=instance.id,
        user_id=user_id,
        state=JobState.RUNNING,
        step="created" if provision else "called",
        from_status=InstanceStatus.PENDING_PAYMENT if provision else InstanceStatus.ACTIVE,
        context={"created_at": (now - timedelta(seconds=created_ago)).isoformat()},
        deadline_at=now + timedelta(seconds=deadline_in),
    )
    database.add(job)
    return job.id


def _round(app: Flask) -> Round:
    with app.app_context():
        done = machine_checks.run_round()
    assert done is not None, "another round held the lock"
    return done


def _calls(emulator: EmulatorHandle) -> list[tuple[str, str]]:
    """(operation, machine id) of every list and GET the emulator received."""
    log = emulator.http.get("/call-log").json()
    return [(c["operation"], c["machine"]) for c in log if c["operation"] in LIST_AND_GET]


def _job(database: Database, job_id: int) -> Job:
    job = database.get(Job, job_id)
    assert job is not None
    return job


def _rounds_until_settled(app: Flask, database: Database, jobs: list[int]) -> int:
    """Run rounds until no job is left running; how many it took."""
    rounds = 0
    while any(_job(database, j).state == JobState.RUNNING for j in jobs):
        assert rounds < 50, "the jobs never settled"
        if rounds:
            time.sleep(0.2)
        _round(app)
        rounds += 1
    return rounds


@pytest.mark.usefixtures("rounds_held")
def test_one_round_makes_one_list_call_per_provider_for_all_its_machines(
    app: Flask, client: FlaskClient, database: Database, emulators: dict[str, EmulatorHandle]
) -> None:
    user_id = Customer(client).id
    jobs = [
        _in_flight(database, user_id, provider, _make_machine(app, provider, n).provider_id)
        for provider in emulators
        for n in range(4)
    ]

    first = _round(app)
    assert first.jobs == len(jobs)
    assert dict(first.lists) == {"vultr": 1, "contabo": 1} and not first.gets
    rounds = 1 + _rounds_until_settled(app, database, jobs)

    for name, emulator in emulators.items():
        assert Counter(op for op, _ in _calls(emulator)) == {"list": rounds}, name
    assert {_job(database, j).state for j in jobs} == {JobState.SUCCEEDED}
    instances = database.scalars(select(Instance))
    assert {i.status for i in instances} == {InstanceStatus.ACTIVE}
    assert all(i.ip_address for i in instances)  # recorded from the list


@pytest.mark.usefixtures("rounds_held")
def test_only_a_machine_missing_from_the_list_gets_a_get_of_its_own(
    app: Flask, client: FlaskClient, database: Database, emulators: dict[str, EmulatorHandle]
) -> None:
    user_id = Customer(client).id
    listed = _make_machine(app, "vultr", 1).provider_id
    _in_flight(database, user_id, "vultr", listed)
    # Just created and not listed yet: a 404 within the grace is no failure.
    young = _in_flight(database, user_id, "vultr", "missing-young", created_ago=5)
    # Long past its create and still nowhere: gone.
    old = _in_flight(database, user_id, "vultr", "missing-old", created_ago=600)

    done = _round(app)

    assert dict(done.lists) == {"vultr": 1} and dict(done.gets) == {"vultr": 2}
    calls = _calls(emulators["vultr"])
    assert sorted(calls) == [("get", "missing-old"), ("get", "missing-young"), ("list", "")]
    assert _job(database, young).state == JobState.RUNNING
    gone = _job(database, old)
    assert gone.state == JobState.FAILED and gone.error


@pytest.mark.usefixtures("rounds_held")
def test_a_machine_in_error_or_gone_fails_its_job(
    app: Flask, client: FlaskClient, database: Database, emulators: dict[str, EmulatorHandle]
) -> None:
    user_id = Customer(client).id
    broken = _make_machine(app, "contabo", 1).provider_id
    pin = {"status": "error", "errorMessage": "disk"}
    # The emulator, like Contabo, does not know a machine for a moment after its create.
    wait_until(
        lambda: emulators["contabo"].http.post(f"/instances/{broken}/status", json=pin).is_success
    )
    in_error = _in_flight(database, user_id, "contabo", broken)
    vanished = _make_machine(app, "vultr", 2).provider_id

    def destroyed() -> bool:  # a DELETE right after the create finds nothing yet
        client_for("vultr").destroy(vanished)
        return all(m["id"] != vanished for m in emulators["vultr"].machines())

    with app.app_context():
        wait_until(destroyed)
    restarted = _in_flight(database, user_id, "vultr", vanished, kind=JobKind.RESTART)

    done = _round(app)

    assert dict(done.gets) == {"vultr": 1}  # gone: no longer listed, and a 404
    failed = _job(database, in_error)
    assert failed.state == JobState.FAILED and "error state" in (failed.error or "")
    assert database.get(Instance, failed.instance_id).status == InstanceStatus.FAILED
    gone = _job(database, restarted)
    assert gone.state == JobState.FAILED
    # A failed restart puts the machine back where it was, with the reason shown.
    assert database.get(Instance, gone.instance_id).status == InstanceStatus.ACTIVE


@pytest.mark.usefixtures("rounds_held")
def test_a_job_past_its_deadline_fails_without_a_call(
    app: Flask, client: FlaskClient, database: Database, emulators: dict[str, EmulatorHandle]
) -> None:
    user_id = Customer(client).id
    machine = _make_machine(app, "vultr", 1).provider_id
    late = _in_flight(database, user_id, "vultr", machine, deadline_in=-1)

    done = _round(app)

    job = _job(database, late)
    assert job.state == JobState.FAILED and "deadline" in (job.error or "")
    assert not done.lists and _calls(emulators["vultr"]) == []


@pytest.mark.usefixtures("rounds_held")
def test_a_new_machine_is_first_looked_at_after_the_first_check_delay(
    app: Flask, client: FlaskClient, database: Database, emulators: dict[str, EmulatorHandle]
) -> None:
    user_id = Customer(client).id
    machine = _make_machine(app, "vultr", 1).provider_id
    job_id = _in_flight(database, user_id, "vultr", machine, created_ago=0)

    assert not _round(app).lists  # FIRST_CHECK_DELAY (0.5 s here) not over yet
    time.sleep(app.config["FIRST_CHECK_DELAY"])
    assert dict(_round(app).lists) == {"vultr": 1}
    assert _job(database, job_id).state in (JobState.RUNNING, JobState.SUCCEEDED)


@pytest.mark.usefixtures("rounds_held")
def test_asking_for_a_round_twice_queues_one(app: Flask) -> None:
    redis = app.extensions["celery"].connection_for_write().default_channel.client
    with app.app_context():
        machine_checks.schedule_round()
        machine_checks.schedule_round()
    assert redis.llen("checks") == 1


def test_actions_have_a_queue_of_their_own(app: Flask) -> None:
    router = app.extensions["celery"].amqp.router

    def queue_of(name: str) -> str:
        return str(router.route({}, name)["queue"].name)

    for action in (task_names.RESTART, task_names.STOP, task_names.START, task_names.TERMINATE):
        assert queue_of(action) == "actions", action
    assert queue_of(task_names.CHANGE_PLAN) == "actions"
    assert queue_of(task_names.CREATE_MACHINE) == "provisioning"
    assert queue_of(task_names.CHECK_MACHINES) == "checks"


@pytest.mark.usefixtures("machine_jobs_held")
def test_a_restart_asked_through_the_api_waits_on_the_actions_queue(
    app: Flask, client: FlaskClient, database: Database
) -> None:
    customer = Customer(client)
    instance = make_instance(database, customer.id)
    redis = app.extensions["celery"].connection_for_write().default_channel.client
    assert customer.post(f"/api/instances/{instance.id}/restart").status_code == 202
    assert (redis.llen("actions"), redis.llen("provisioning")) == (1, 0)


@pytest.mark.parametrize("provider", ["vultr", "contabo"])
def test_ordered_machines_are_watched_by_rounds_until_active(
    client: FlaskClient, vultr: EmulatorHandle, contabo: EmulatorHandle, provider: str
) -> None:
    emulator = {"vultr": vultr, "contabo": contabo}[provider]
    customer = Customer(client)
    ordered = [order(customer, os_type="linux", region=REGION_OF[provider]) for _ in range(3)]
    for placed in ordered:
        assert wait_for_job(customer, placed["job"]["id"], timeout=45)["state"] == "succeeded"
    calls = Counter(op for op, _ in _calls(emulator))
    assert calls["get"] == 0, calls  # every machine was seen in the lists
    assert calls["list"] >= 1
