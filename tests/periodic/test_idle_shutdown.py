"""Idle auto-shutdown, run for real: the beat task on the worker, stops through the job
path at the Vultr emulator, owners e-mailed through the local SMTP server."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.models import AuditEvent, Job
from tests.periodic.conftest import (
    ago,
    run_task,
    running_instance,
    set_instance,
    set_preferences,
    status_of,
    wait_for_status,
)
from tests.support.accounts import mails_to, wait_for_mail
from tests.support.api import Customer, wait_for_job
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle
from tests.support.factories import make_instance
from tests.support.mailbox import Mailbox


def test_idle_machines_are_stopped_their_owner_emailed_and_start_brings_them_back(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle, inbox: Mailbox
) -> None:
    owner = Customer(client)
    set_preferences(database, owner, auto_shutdown=True, idle_minutes=30)
    # The agent reports, but nobody was connected for three hours.
    reported = running_instance(database, vultr, owner.id)
    set_instance(
        database, reported.id, last_heartbeat_at=ago(minutes=2), last_accessed=ago(hours=3)
    )
    # No agent ever reported; usage polling saw no traffic growth for two hours.
    silent = running_instance(database, vultr, owner.id)
    set_instance(database, silent.id, traffic_seen_at=ago(hours=2))

    run_task(app, "periodic.stop_idle")

    for instance in (reported, silent):
        wait_for_status(database, instance.id, "stopped")
        machine = next(m for m in vultr.machines() if m["id"] == instance.provider_id)
        assert machine["power_status"] == "stopped"
        mail = wait_for_mail(inbox, owner.email, instance.name)
        body = mail.get_content()
        assert "30 minutes" in body and f"/api/instances/{instance.id}/start" in body
    jobs = database.scalars(select(Job).order_by(Job.id))
    assert [(j.kind, j.state, j.context["reason"]) for j in jobs] == [
        ("stop", "succeeded", "idle"),
        ("stop", "succeeded", "idle"),
    ]
    audited = database.scalars(
        select(AuditEvent).where(AuditEvent.action == "instance.idle_stopped")
    )
    assert sorted(e.details["instance_id"] for e in audited) == [reported.id, silent.id]

    started = owner.post(f"/api/instances/{reported.id}/start")
    assert started.status_code == 202
    assert wait_for_job(owner, started.get_json()["job"]["id"])["state"] == "succeeded"
    assert status_of(database, reported.id) == "active"
    # Just started: the next check leaves it a full idle period, stale session or not.
    run_task(app, "periodic.stop_idle")
    assert status_of(database, reported.id) == "active"


def test_machines_in_use_or_without_evidence_keep_running(
    app: Flask, client: FlaskClient, database: Database, inbox: Mailbox
) -> None:
    owner = Customer(client)
    set_preferences(database, owner, auto_shutdown=True, idle_minutes=60)
    patient = Customer(app.test_client())
    set_preferences(database, patient, auto_shutdown=True, idle_minutes=240)
    careless = Customer(app.test_client())  # auto-shutdown stays off (the default)
    kept = {
        "session five minutes ago": make_instance(
            database, owner.id, last_heartbeat_at=ago(minutes=1), last_accessed=ago(minutes=5)
        ),
        "traffic still growing": make_instance(database, owner.id, traffic_seen_at=ago(minutes=10)),
        "no agent and no traffic figures yet": make_instance(database, owner.id),
        "agent silent, traffic recent": make_instance(
            database,
            owner.id,
            last_heartbeat_at=ago(hours=3),
            last_accessed=ago(hours=4),
            traffic_seen_at=ago(minutes=3),
        ),
        "owner allows four hours": make_instance(
            database, patient.id, last_heartbeat_at=ago(minutes=1), last_accessed=ago(hours=3)
        ),
        "auto-shutdown off": make_instance(
            database, careless.id, last_heartbeat_at=ago(minutes=1), last_accessed=ago(days=3)
        ),
        "already stopped": make_instance(
            database, owner.id, status="stopped", last_heartbeat_at=ago(hours=5)
        ),
    }
    # Started twenty minutes ago after a long pause: the start job gives it a full hour.
    restarted = make_instance(
        database, owner.id, last_heartbeat_at=ago(minutes=1), last_accessed=ago(days=1)
    )
    database.add(Job(kind="start", instance_id=restarted.id, user_id=owner.id, state="succeeded"))
    with database.session() as session:
        session.execute(update(Job).values(created_at=ago(minutes=20)))
        session.commit()

    run_task(app, "periodic.stop_idle")

    for why, instance in {**kept, "just started": restarted}.items():
        expected = "stopped" if why == "already stopped" else "active"
        assert status_of(database, instance.id) == expected, why
    assert [j.kind for j in database.scalars(select(Job))] == ["start"]
    assert not any("was stopped" in str(m["Subject"]) for m in mails_to(inbox, owner.email))


def test_a_second_run_stops_nothing_twice_and_owners_without_notifications_get_no_mail(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle, inbox: Mailbox
) -> None:
    owner = Customer(client)
    set_preferences(database, owner, auto_shutdown=True, idle_minutes=30, email_notifications=False)
    instance = running_instance(database, vultr, owner.id)
    set_instance(
        database, instance.id, last_heartbeat_at=ago(minutes=1), last_accessed=ago(hours=1)
    )

    run_task(app, "periodic.stop_idle")
    run_task(app, "periodic.stop_idle")

    wait_for_status(database, instance.id, "stopped")
    run_task(app, "periodic.stop_idle")
    assert [j.kind for j in database.scalars(select(Job))] == ["stop"]
    assert not any(instance.name in str(m["Subject"]) for m in mails_to(inbox, owner.email))
