"""Reconciliation against the Vultr emulator: only this install's machines are looked at;
orphans are reported, then destroyed after the grace period unless a guard keeps them (a
machine newer than the database, destroying off, the pass's cap), in which case they wait,
reported, for an operator's decision; machines gone at the provider are marked failed."""

from __future__ import annotations

import os
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update

from app.models import (
    AuditEvent,
    FindingDecision,
    Instance,
    OrphanMachine,
    ReconcileFinding,
)
from app.models.instance import machine_label
from app.services import reconcile
from tasks.periodic import reconcile_one
from tests.periodic.conftest import ago, run_task, running_instance, vultr_machine
from tests.support.accounts import mails_to, wait_for_mail
from tests.support.api import Customer
from tests.support.database import Database
from tests.support.emulators import EmulatorHandle, wait_until
from tests.support.factories import label_of, make_instance
from tests.support.mailbox import Mailbox

OPS = "ops@nemordp.local"


def _orphans(database: Database) -> dict[str, OrphanMachine]:
    return {o.label: o for o in database.scalars(select(OrphanMachine))}


def _kept(database: Database) -> dict[str, ReconcileFinding]:
    return {f.provider_id: f for f in database.scalars(select(ReconcileFinding))}


def _machine_ids(vultr: EmulatorHandle) -> set[str]:
    return {m["id"] for m in vultr.machines()}


def _grace_over(database: Database) -> None:
    with database.session() as session:  # the grace period (6 hours) is over
        session.execute(update(OrphanMachine).values(first_seen_at=ago(hours=7)))
        session.commit()


def _ours(instance_id: int) -> str:
    """This install's label for an instance id that may not exist."""
    return machine_label(os.environ["INSTALL_ID"], instance_id)


def _reconcile_here(app: Flask, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> None:
    """One pass in this process, under settings the worker does not have."""
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    with app.app_context():
        reconcile_one("vultr")


def test_orphans_are_reported_then_destroyed_after_the_grace_period(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle, inbox: Mailbox
) -> None:
    owner = Customer(client)
    lost = make_instance(database, owner.id, status="terminated", provider_id=None)
    with database.session() as session:  # an id below the highest that no row holds
        session.execute(delete(Instance).where(Instance.id == lost.id))
        session.commit()
    kept = running_instance(database, vultr, owner.id)
    ended = make_instance(database, owner.id, status="terminated", provider_id=None)
    unknown = vultr_machine(vultr, _ours(lost.id))
    leftover = vultr_machine(vultr, label_of(ended))
    duplicate = vultr_machine(vultr, label_of(kept))  # a second machine under a live label
    foreign = {
        vultr_machine(vultr, "someone-elses-server"),
        vultr_machine(vultr, machine_label("staging1", ended.id)),  # another install's
        vultr_machine(vultr, f"nemordp-{ended.id}"),  # labelled before install ids
    }

    run_task(app, "periodic.reconcile_provider", "vultr")

    orphans = _orphans(database)
    assert {o.provider_id: o.reason for o in orphans.values()} == {
        unknown: "no such instance",
        leftover: "instance is terminated",
        duplicate: f"instance owns machine {kept.provider_id}",
    }
    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr: 3 finding(s)").get_content()
    assert unknown in alert and leftover in alert and "will be destroyed after" in alert
    assert len(vultr.machines()) == 7  # nothing destroyed yet
    assert _kept(database) == {}

    inbox.clear()
    run_task(app, "periodic.reconcile_provider", "vultr")  # same findings: no new report
    assert len(vultr.machines()) == 7 and len(_orphans(database)) == 3
    assert mails_to(inbox, OPS) == []

    _grace_over(database)
    run_task(app, "periodic.reconcile_provider", "vultr")

    assert _machine_ids(vultr) == {kept.provider_id, *foreign}
    assert all(o.destroyed_at is not None for o in _orphans(database).values())
    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr").get_content()
    assert alert.count("destroyed 20") == 3
    destroyed = database.scalars(select(AuditEvent).where(AuditEvent.action == "orphan.destroyed"))
    assert sorted(e.details["provider_id"] for e in destroyed) == sorted(
        [unknown, leftover, duplicate]
    )

    inbox.clear()
    run_task(app, "periodic.reconcile_provider", "vultr")  # all settled: a quiet run
    assert mails_to(inbox, OPS) == [] and len(vultr.machines()) == 4


def test_a_database_restored_from_an_older_backup_keeps_the_newer_machines(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle, inbox: Mailbox
) -> None:
    owner = Customer(client)
    running = running_instance(database, vultr, owner.id)
    ended = make_instance(database, owner.id, status="terminated", provider_id=None)
    leftover = vultr_machine(vultr, label_of(ended))
    # Customers who ordered after the backup was taken: the database has no such rows.
    newer = [vultr_machine(vultr, _ours(ended.id + n)) for n in (1, 2)]

    run_task(app, "periodic.reconcile_provider", "vultr")

    kept = _kept(database)
    assert set(kept) == set(newer)
    assert {f.guard for f in kept.values()} == {"beyond_highest_id"}
    assert all(f.resolved_at is None and f.decision is None for f in kept.values())
    assert kept[newer[0]].instance_id == ended.id + 1
    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr: 3 finding(s)").get_content()
    assert alert.count("waits for an operator's decision") == 2
    assert f"above the database's highest ({ended.id})" in alert
    assert leftover in alert and "will be destroyed after" in alert

    # The next order takes an id after the newest label, never a running machine's label.
    later = make_instance(database, owner.id, status="pending_payment", provider_id=None)
    assert later.id == ended.id + 3

    inbox.clear()
    _grace_over(database)  # the database's ids have passed the labels' ids meanwhile
    run_task(app, "periodic.reconcile_provider", "vultr")

    assert _machine_ids(vultr) == {running.provider_id, *newer}
    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr: 1 finding(s)").get_content()
    assert leftover in alert and "destroyed 20" in alert
    assert {f.guard for f in _kept(database).values()} == {"beyond_highest_id"}
    destroyed = database.scalars(select(AuditEvent).where(AuditEvent.action == "orphan.destroyed"))
    assert [e.details["provider_id"] for e in destroyed] == [leftover]


def test_an_operator_decides_what_becomes_of_a_kept_machine(
    app: Flask, client: FlaskClient, database: Database, vultr: EmulatorHandle, inbox: Mailbox
) -> None:
    owner = Customer(client)
    make_instance(database, owner.id, status="terminated", provider_id=None)
    spare, unwanted = vultr_machine(vultr, _ours(50)), vultr_machine(vultr, _ours(51))
    run_task(app, "periodic.reconcile_provider", "vultr")
    kept = _kept(database)
    assert set(kept) == {spare, unwanted}
    wait_for_mail(inbox, OPS, "reconciliation with vultr: 2 finding(s)")

    with app.app_context():
        reconcile.decide(kept[spare].id, FindingDecision.KEEP, owner.id)
        reconcile.decide(kept[unwanted].id, FindingDecision.DESTROY, owner.id)
    inbox.clear()
    run_task(app, "periodic.reconcile_provider", "vultr")

    assert _machine_ids(vultr) == {spare}
    decided = _kept(database)
    assert (decided[spare].resolution, decided[spare].decided_by) == (
        "kept by an operator",
        owner.id,
    )
    assert decided[unwanted].resolution == "destroyed"
    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr: 1 finding(s)").get_content()
    assert unwanted in alert and spare not in alert

    inbox.clear()
    _grace_over(database)
    run_task(app, "periodic.reconcile_provider", "vultr")  # kept for good: a quiet run
    assert _machine_ids(vultr) == {spare} and mails_to(inbox, OPS) == []
    audited = database.scalars(select(AuditEvent).where(AuditEvent.action == "orphan.decided"))
    assert sorted(e.details["decision"] for e in audited) == ["destroy", "keep"]


def test_with_destroying_off_orphans_are_only_reported(
    app: Flask,
    client: FlaskClient,
    database: Database,
    vultr: EmulatorHandle,
    inbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = Customer(client)
    ended = make_instance(database, owner.id, status="terminated", provider_id=None)
    leftover = vultr_machine(vultr, label_of(ended))

    _reconcile_here(app, monkeypatch, RECONCILE_DESTROY=False)

    assert _kept(database)[leftover].guard == "destroy_off"
    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr").get_content()
    assert "kept, as destroying is off here (RECONCILE_DESTROY)" in alert

    inbox.clear()
    _grace_over(database)
    _reconcile_here(app, monkeypatch)
    assert _machine_ids(vultr) == {leftover} and mails_to(inbox, OPS) == []


def test_a_pass_destroys_no_more_than_its_cap(
    app: Flask,
    client: FlaskClient,
    database: Database,
    vultr: EmulatorHandle,
    inbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = Customer(client)
    ended = [make_instance(database, owner.id, status="terminated", provider_id=None)]
    ended += [make_instance(database, owner.id, status="terminated", provider_id=None)]
    machines = [vultr_machine(vultr, label_of(instance)) for instance in ended]
    machines += [vultr_machine(vultr, label_of(instance)) for instance in ended]  # twice each
    run_task(app, "periodic.reconcile_provider", "vultr")
    oldest_first = [
        o.provider_id for o in database.scalars(select(OrphanMachine).order_by(OrphanMachine.id))
    ]
    with database.session() as session:  # all past their grace, the first two the longest
        for hours, provider_id in zip((10, 9, 8, 7), oldest_first, strict=True):
            session.execute(
                update(OrphanMachine)
                .where(OrphanMachine.provider_id == provider_id)
                .values(first_seen_at=ago(hours=hours))
            )
        session.commit()
    wait_for_mail(inbox, OPS, "reconciliation with vultr: 4 finding(s)")
    inbox.clear()

    # 50 % of 4 machines is 2, more than the fixed cap of 1.
    settings = {"RECONCILE_DESTROY_MAX": 1, "RECONCILE_DESTROY_MAX_PERCENT": 50.0}
    _reconcile_here(app, monkeypatch, **settings)

    assert _machine_ids(vultr) == set(oldest_first[2:])
    assert {pid: f.guard for pid, f in _kept(database).items()} == dict.fromkeys(
        oldest_first[2:], "destroy_cap"
    )
    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr: 4 finding(s)").get_content()
    assert alert.count("destroyed 20") == 2
    assert alert.count("this pass destroyed 2 machine(s) at vultr") == 2

    _reconcile_here(app, monkeypatch, **settings)  # 2 machines left: a cap of 1
    assert _machine_ids(vultr) == {oldest_first[3]}
    _reconcile_here(app, monkeypatch, **settings)
    assert _machine_ids(vultr) == set()
    assert {f.resolution for f in _kept(database).values()} == {"destroyed"}
    assert sorted(machines) == sorted(oldest_first)


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
    # Ordered before labels named the install: still its instance's, by provider id.
    labelled_before = make_instance(database, owner.id, provider_id=None)
    machine = vultr_machine(vultr, f"nemordp-{labelled_before.id}")
    with database.session() as session:
        session.execute(
            update(Instance).where(Instance.id == labelled_before.id).values(provider_id=machine)
        )
        session.commit()

    run_task(app, "periodic.reconcile")  # every provider, each in its own task

    alert = wait_for_mail(inbox, OPS, "reconciliation with vultr").get_content()
    assert f"instance {gone.id} " in alert and machine not in alert
    failed = database.get(Instance, gone.id)
    assert failed is not None and failed.status == "failed"
    assert failed.status_reason == "the machine no longer exists at vultr"
    assert database.get(Instance, present.id).status == "active"  # type: ignore[union-attr]
    assert database.get(Instance, labelled_before.id).status == "active"  # type: ignore[union-attr]
    assert _orphans(database) == {} and machine in _machine_ids(vultr)
    wait_until(lambda: database.get(Instance, contabo_one.id).status == "failed")
    audited = database.scalars(select(AuditEvent).where(AuditEvent.action == "instance.vanished"))
    assert gone.id in {e.details["instance_id"] for e in audited}
