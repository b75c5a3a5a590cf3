"""Snapshots of a customer's machine: list, take, restore from, delete."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import Blueprint

from app.schemas.snapshots import (
    SnapshotCreateSchema,
    SnapshotJobSchema,
    SnapshotListSchema,
    SnapshotRestoreSchema,
)
from app.services import snapshots

blp = Blueprint(
    "snapshots", __name__, url_prefix="/api/instances", description="Snapshots of machines"
)


@blp.route("/<int:instance_id>/snapshots", methods=["GET"])
@blp.response(200, SnapshotListSchema)
@login_required
def list_snapshots(instance_id: int) -> dict[str, Any]:
    """The machine's snapshots, with its plan's quota and the price of each."""
    return snapshots.list_for(current_user, instance_id)


@blp.route("/<int:instance_id>/snapshots", methods=["POST"])
@blp.arguments(SnapshotCreateSchema)
@blp.response(202, SnapshotJobSchema)
@login_required
def create_snapshot(body: dict[str, str], instance_id: int) -> dict[str, Any]:
    """Take a snapshot of the machine's disk (409 once the plan's quota is reached)."""
    job, snapshot = snapshots.create(current_user, instance_id, body["name"])
    return {"job": job, "snapshot": snapshot}


@blp.route("/<int:instance_id>/snapshots/<int:snapshot_id>/restore", methods=["POST"])
@blp.arguments(SnapshotRestoreSchema)
@blp.response(202, SnapshotJobSchema)
@login_required
def restore_snapshot(body: dict[str, str], instance_id: int, snapshot_id: int) -> dict[str, Any]:
    """Overwrite the machine's disk with the snapshot; ``confirm`` is the machine's name."""
    job, snapshot = snapshots.restore(current_user, instance_id, snapshot_id, body["confirm"])
    return {"job": job, "snapshot": snapshot}


@blp.route("/<int:instance_id>/snapshots/<int:snapshot_id>", methods=["DELETE"])
@blp.response(202, SnapshotJobSchema)
@login_required
def delete_snapshot(instance_id: int, snapshot_id: int) -> dict[str, Any]:
    """Delete the snapshot at the provider."""
    job, snapshot = snapshots.delete(current_user, instance_id, snapshot_id)
    return {"job": job, "snapshot": snapshot}
