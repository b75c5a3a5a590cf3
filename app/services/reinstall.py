"""Reinstalling a machine with a chosen system: everything on its disk is erased, it gets
new credentials, and the old ones stop working.

The owner confirms by typing the machine's name; the work is a job (`JobKind.REINSTALL`)
whose step (`workers.machines.reinstall`) stores the new credentials once the provider took
the order, after which the machine boots the new system.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import Job, OsType, User
from app.services import instances, jobs, lifecycle, ssh_keys
from app.services.lifecycle import JobKind
from app.services.tasks import require_broker
from workers.providers import registry
from workers.providers.base import Capability

SYSTEMS = tuple(o.value for o in OsType)  # what an order may choose, and a reinstall


def request(
    user: User,
    instance_id: int,
    system: str,
    confirm: str,
    ssh_key_ids: Sequence[int] | None = None,
) -> Job:
    """Start a reinstall of the user's machine with ``system``, or hand back the one
    already under way.

    ``confirm`` must be the machine's name (422 naming it otherwise). ``ssh_key_ids``, for
    Linux only, replace the keys installed on it; without them a Linux machine keeps the
    keys chosen before, and another system has none. 409 when the status or the provider
    does not allow it.
    """
    instance = instances.get_for(user, instance_id, lock=True)
    if confirm.strip() != instance.name:
        raise ValidationFailed(
            fields={"confirm": [f"Type the machine's name, {instance.name}, to confirm."]}
        )
    if system not in SYSTEMS:
        raise ValidationFailed(fields={"os": [f"Must be one of: {', '.join(SYSTEMS)}."]})
    keys = ssh_keys.chosen(user, ssh_key_ids or (), system)
    if instance.status not in lifecycle.OWNER_ACTIONS[JobKind.REINSTALL]:
        running = jobs.active_job(instance.id)
        if running is not None and running.kind == JobKind.REINSTALL:
            return running
        raise Conflict(f"Cannot reinstall an instance that is {instance.status}.")
    if instance.provider is None or not registry.supports(instance.provider, Capability.REINSTALL):
        raise Conflict("This machine's provider cannot reinstall it.")
    if ssh_key_ids is not None or system != OsType.LINUX:
        ssh_keys.attach(instance.id, keys)
    job = lifecycle.start_job(
        instance,
        JobKind.REINSTALL,
        audit_as="instance.reinstall_requested",
        actor=user.id,
        details={"os": system, "ssh_keys": [key.fingerprint for key in keys]},
        reason="Reinstalling: everything on the disk is erased.",
        context={"os": system},
    )
    require_broker()
    db.session.expunge(job)  # answered as written, not read back after the commit
    db.session.commit()
    return job
