"""Reconciliation against the Vultr emulator: orphans reported, then destroyed after the
grace period; machines gone at the provider marked failed and reported."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.models import AuditEvent, Instance, OrphanMachine
from tests.periodic.conftest import ago, run_task, running_instance, vultr_machine
from tests.support.accounts import mails_to, wait_for_mail
from tests.support.api import Customer
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.factories import make_instance
from tests.support.mailbox import Mailbox

OPS = "ops@nemordp.local"


def _orphans(database: Database) -> dict[str, OrphanMachine]:
    return {o.label: o for o in database.scalars(select(OrphanMachine))}


def test_orphans_are_reported_then_destroyed_after_the_grace_period(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle, inbox: Mailbox
) -> None:
    owner = Customer(client)
    kept = running_instance(database, vultr, owner.id)
    ended = make_instance(database, owner.id, status="terminated", provider_id=None)
    unknown = vultr_machine(vultr, "nemordp-999999")
    leftover = vultr_machine(vultr, ended.label)
    duplicate = vultr_machine(vultr, kept.label)  # a second machine under a live label
    foreign = vultr_machine(vultr, "someone-elses-server")

    run_task(app, "periodic.reconcile_provider", "vultr")

    orphans = _orphans(database)
    assert {o.provider_id: o.reason for o in orphans.values()} == {
        unknown: "no such instance",
        leftover: "instance is terminated",
        duplicate: f"instance owns machine {kept.provider_id}",
    }
    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr: 3 finding(s)").get_content()
    assert unknown in alert and leftover in alert and "will be destroyed after" in alert
    assert len(vultr.machines()) == 5  # nothing destroyed yet

    inbox.clear()
    run_task(app, "periodic.reconcile_provider", "vultr")  # same findings: no new report
    assert len(vultr.machines()) == 5 and len(_orphans(database)) == 3
    assert mails_to(inbox, OPS) == []

    with database.session() as session:  # the grace period (6 hours) is over
        session.execute(update(OrphanMachine).values(first_seen_at=ago(hours=7)))
        session.commit()
    run_task(app, "periodic.reconcile_provider", "vultr")

    assert {m["id"] for m in vultr.machines()} == {kept.provider_id, foreign}
    assert all(o.destroyed_at is not None for o in _orphans(database).values())
    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr").get_content()
    assert alert.count("destroyed 20") == 3
    destroyed = database.scalars(select(AuditEvent).where(AuditEvent.action == "orphan.destroyed"))
    assert sorted(e.details["provider_id"] for e in destroyed) == sorted(
        [unknown, leftover, duplicate]
    )

    inbox.clear()
    run_task(app, "periodic.reconcile_provider", "vultr")  # all settled: a quiet run
    assert mails_to(inbox, OPS) == [] and len(vultr.machines()) == 2


def test_a_machine_the_provider_no_longer_has_is_marked_failed_and_reported(
    app: Flask,
    client: FlaskClient,
    database: Database,
    vultr: EmulatorHandle,
    contabo: EmulatorHandle,
    inbox: Mailbox,
) -> None:
    owner = Customer(client)
    present = running_instance(database, vultr, owner.id)
    gone = make_instance(
        database, owner.id, status="stopped", provider_id="6a1f0c1e-0000-4000-8000-000000000001"
    )
    contabo_one = make_instance(database, owner.id, provider="contabo", provider_id="4242")

    run_task(app, "periodic.reconcile")  # every provider, each in its own task

    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr").get_content()
    assert f"instance {gone.id} " in alert
    failed = database.get(Instance, gone.id)
    assert failed is not None and failed.status == "failed"
    assert failed.status_reason == "the machine no longer exists at vultr"
    assert database.get(Instance, present.id).status == "active"  # type: ignore[union-attr]
    wait_until(lambda: database.get(Instance, contabo_one.id).status == "failed")
    audited = database.scalars(select(AuditEvent).where(AuditEvent.action == "instance.vanished"))
    assert gone.id in {e.details["instance_id"] for e in audited}
