"""Snapshots of a customer's machine: list them with the plan's quota, take one,
restore the machine from one, delete one.

A snapshot belongs to the machine's owner: every call finds the machine among the user's
first (404 otherwise). Each change is a job (`JobKind.SNAPSHOT_*`) whose steps are
`workers.snapshots`; taking and deleting leave the machine as it is, a restore overwrites
its disk (the owner types the machine's name to confirm) and the machine is `restoring`
until it answers again. A plan keeps ``snapshot_quota`` snapshots per machine, failed ones
aside, included in its price.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Instance, Job, Snapshot, SnapshotStatus, User
from app.services import instances, lifecycle
from app.services.lifecycle import JobKind
from app.services.tasks import require_broker
from workers.providers import registry
from workers.providers.base import Capability

SS = SnapshotStatus


def list_for(user: User, instance_id: int) -> dict[str, Any]:
    """The machine's snapshots, oldest first, with how many its plan keeps."""
    instance = instances.get_for(user, instance_id)
    rows = db.session.scalars(
        select(Snapshot).where(Snapshot.instance_id == instance.id).order_by(Snapshot.id)
    )
    return {
        "snapshots": list(rows),
        "available": _supported(instance),
        "quota": instance.plan.snapshot_quota,
    }


def create(user: User, instance_id: int, name: str) -> tuple[Job, Snapshot]:
    """Start taking a snapshot named ``name`` of the user's machine.

    409 when its provider takes none, its status does not allow it, or the plan's quota is
    reached (the row lock queues concurrent requests, so two cannot both take the last
    place)."""
    name = name.strip()
    if not name:
        raise ValidationFailed(fields={"name": ["Must not be blank."]})
    instance = instances.get_for(user, instance_id, lock=True)
    _require_supported(instance)
    if instance.status not in lifecycle.KINDS[JobKind.SNAPSHOT_CREATE].starts_from:
        raise Conflict(f"Cannot take a snapshot of an instance that is {instance.status}.")
    kept = db.session.scalar(
        select(func.count(Snapshot.id)).where(
            Snapshot.instance_id == instance.id, Snapshot.status != SS.FAILED
        )
    )
    quota = instance.plan.snapshot_quota
    if (kept or 0) >= quota:
        raise Conflict(
            f"Snapshot quota reached: the {instance.plan.name} plan keeps {quota} snapshots "
            "per machine. Delete one first.",
            fields={"quota": quota},
        )
    snapshot = Snapshot(instance_id=instance.id, name=name, status=SS.CREATING)
    db.session.add(snapshot)
    db.session.flush()
    job = _start(instance, snapshot, JobKind.SNAPSHOT_CREATE, user, "snapshot.create_requested")
    return job, snapshot


def restore(user: User, instance_id: int, snapshot_id: int, confirm: str) -> tuple[Job, Snapshot]:
    """Start restoring the machine from one of its snapshots: its disk is overwritten.

    ``confirm`` must be the machine's name (422 naming it otherwise); 409 unless the
    snapshot is available and the machine active or stopped."""
    instance = instances.get_for(user, instance_id, lock=True)
    snapshot = _snapshot_of(instance, snapshot_id)
    if confirm.strip() != instance.name:
        raise ValidationFailed(
            fields={"confirm": [f"Type the machine's name, {instance.name}, to confirm."]}
        )
    _require_supported(instance)
    if snapshot.status != SS.AVAILABLE:
        raise Conflict(f"Cannot restore from a snapshot that is {snapshot.status}.")
    if instance.status not in lifecycle.KINDS[JobKind.SNAPSHOT_RESTORE].starts_from:
        raise Conflict(f"Cannot restore an instance that is {instance.status}.")
    snapshot.status = SS.RESTORING
    job = _start(
        instance,
        snapshot,
        JobKind.SNAPSHOT_RESTORE,
        user,
        "snapshot.restore_requested",
        reason=f"Restoring from the snapshot {snapshot.name}: the disk is overwritten.",
    )
    return job, snapshot


def delete(user: User, instance_id: int, snapshot_id: int) -> tuple[Job, Snapshot]:
    """Start deleting one of the machine's snapshots (an available or failed one)."""
    instance = instances.get_for(user, instance_id, lock=True)
    snapshot = _snapshot_of(instance, snapshot_id)
    if snapshot.status not in (SS.AVAILABLE, SS.FAILED):
        raise Conflict(f"Cannot delete a snapshot that is {snapshot.status}.")
    if instance.status not in lifecycle.KINDS[JobKind.SNAPSHOT_DELETE].starts_from:
        raise Conflict(f"Cannot delete a snapshot of an instance that is {instance.status}.")
    snapshot.status = SS.DELETING
    job = _start(instance, snapshot, JobKind.SNAPSHOT_DELETE, user, "snapshot.delete_requested")
    return job, snapshot


def _start(
    instance: Instance,
    snapshot: Snapshot,
    kind: JobKind,
    user: User,
    audit_as: str,
    reason: str | None = None,
) -> Job:
    details = {"snapshot_id": snapshot.id, "snapshot": snapshot.name}
    job = lifecycle.start_job(
        instance,
        kind,
        audit_as=audit_as,
        actor=user.id,
        details=details,
        reason=reason,
        context={"snapshot_id": snapshot.id},
    )
    require_broker()
    db.session.expunge(job)  # answered as written, not read back after the commit
    db.session.commit()
    return job


def _snapshot_of(instance: Instance, snapshot_id: int) -> Snapshot:
    snapshot = db.session.scalar(
        select(Snapshot).where(Snapshot.id == snapshot_id, Snapshot.instance_id == instance.id)
    )
    if snapshot is None:
        raise NotFound("Snapshot not found.")
    return snapshot


def _supported(instance: Instance) -> bool:
    return instance.provider is not None and registry.supports(
        instance.provider, Capability.SNAPSHOTS
    )


def _require_supported(instance: Instance) -> None:
    if not _supported(instance) or instance.provider_id is None:
        raise Conflict("This machine's provider cannot take snapshots of it.")
