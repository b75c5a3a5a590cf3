"""Carrying out snapshot jobs at the machine's provider, one short step at a time.

Each step makes its provider call once and records at once what it learnt (the provider's
snapshot id), so a redelivered task never repeats it; a retried create looks its name up
first, so an answer lost on the way never leaves a second snapshot. A snapshot being taken
is looked at every ``STATUS_CHECK_INTERVAL`` until the provider shows it complete
(`watch`); a restore, once called, is watched like any machine job until the machine
answers again (`workers.machine_checks`). A job that fails leaves its snapshot failed (a
create) or available (a restore or delete): `lifecycle.fail_job` sees to it.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Instance, Job, Snapshot, SnapshotStatus
from app.models.base import utcnow
from app.services import lifecycle
from workers import machines
from workers.outside_errors import OutsideError, PermanentError, TransientError
from workers.providers.base import ProviderClient, SnapshotState
from workers.providers.registry import client_for

logger = logging.getLogger(__name__)

TAKING = "taking"  # the provider took the order; the snapshot is being taken
# After the restore call the status rounds watch the machine (`machines.AWAITING_STEPS`).
RESTORE_CALLED = "called"


def provider_name(snapshot: Snapshot) -> str:
    """The name a snapshot carries at its provider: the install and our id, within the
    strictest provider's rule (at most 30 letters, digits and dashes), so a retried create
    finds it."""
    return f"{current_app.config['INSTALL_ID']}-s{snapshot.id}"


def _row(job: Job) -> Snapshot:
    snapshot = db.session.get(Snapshot, job.context["snapshot_id"])
    assert snapshot is not None, "a snapshot job's row goes only when the job succeeds"
    return snapshot


def _client(instance: Instance) -> tuple[ProviderClient, str]:
    assert instance.provider is not None and instance.provider_id is not None
    return client_for(instance.provider), instance.provider_id


def take(job: Job) -> None:
    """Ask the provider for the snapshot, or adopt the one a lost answer left behind."""
    if job.step == TAKING:
        return
    snapshot = _row(job)
    client, machine_id = _client(snapshot.instance)
    name = provider_name(snapshot)
    taken = None
    if job.attempts > 1:  # only a repeated attempt can have made one already
        taken = next((s for s in client.list_snapshots(machine_id) if s.name == name), None)
    if taken is None:
        taken = client.create_snapshot(machine_id, name)
    snapshot.provider_snapshot_id = taken.provider_snapshot_id
    job.step = TAKING
    db.session.commit()


def watch(job: Job) -> bool:
    """One look at the snapshot being taken; finishes the job once it is complete. True
    while it is worth looking again."""
    if job.deadline_at is not None and utcnow() > job.deadline_at:
        machines.fail(job, "the snapshot was not complete before the deadline")
        return False
    snapshot = _row(job)
    client, machine_id = _client(snapshot.instance)
    assert snapshot.provider_snapshot_id is not None
    try:
        found = client.get_snapshot(machine_id, snapshot.provider_snapshot_id)
    except TransientError:
        return True
    except PermanentError as exc:
        machines.fail(job, exc.message)
        return False
    if found.status is SnapshotState.GONE:
        machines.fail(job, "the provider dropped the snapshot while taking it")
        return False
    if found.status is SnapshotState.PENDING:
        return True
    snapshot.status = SnapshotStatus.AVAILABLE
    snapshot.size_bytes = found.size
    lifecycle.finish_job(job)
    return False


def restore(job: Job) -> None:
    """Overwrite the machine's disk with the snapshot (once); the status rounds then wait
    for the machine to answer again. Snapshots the provider dropped with the restore
    (one provider drops every newer one) are forgotten."""
    if job.step == RESTORE_CALLED:
        return
    snapshot = _row(job)
    instance = snapshot.instance
    client, machine_id = _client(instance)
    assert snapshot.provider_snapshot_id is not None
    client.restore_snapshot(machine_id, snapshot.provider_snapshot_id)
    snapshot.status = SnapshotStatus.AVAILABLE
    job.step = RESTORE_CALLED
    db.session.commit()
    try:
        kept = {s.provider_snapshot_id for s in client.list_snapshots(machine_id)}
    except OutsideError as exc:
        logger.warning("snapshots not listed after a restore: %s", exc.message)
        return
    rows = db.session.scalars(
        select(Snapshot).where(
            Snapshot.instance_id == instance.id,
            Snapshot.status == SnapshotStatus.AVAILABLE,
            Snapshot.provider_snapshot_id.not_in(kept),
        )
    )
    for dropped in rows:
        db.session.delete(dropped)
    db.session.commit()


def delete(job: Job) -> None:
    """Delete the snapshot at the provider (one already gone is fine), then its row."""
    snapshot = _row(job)
    if snapshot.provider_snapshot_id is not None:
        client, machine_id = _client(snapshot.instance)
        client.delete_snapshot(machine_id, snapshot.provider_snapshot_id)
    db.session.delete(snapshot)
    lifecycle.finish_job(job)


def drop_all(instance_id: int) -> None:
    """Delete every snapshot of a terminated machine at its provider, then its row, one by
    one (a snapshot already gone is fine), so a retry picks up where this stopped."""
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        return
    rows = db.session.scalars(select(Snapshot).where(Snapshot.instance_id == instance_id)).all()
    for snapshot in rows:
        if snapshot.provider_snapshot_id is not None:
            client, machine_id = _client(instance)
            client.delete_snapshot(machine_id, snapshot.provider_snapshot_id)
        db.session.delete(snapshot)
        db.session.commit()
